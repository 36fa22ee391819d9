"""mlzoo_nb.llm models as a user meets them: found by the zoo and loaded by `Pipeline.load` in a fresh interpreter
that never imported mlzoo_nb.llm (the registry imports `mlzoo_nb.llm.recipes` from BUILTIN_MODULES), PIL inputs.

The notebook nbs/llm/03_multimodal.ipynb trains the captioner and CLIP on generated digits and checks what they learn.
"""
from __future__ import annotations
import textwrap

import numpy as np
import torch
from PIL import Image

from _util import run_python
from mlzoo_nb.llm.multimodal import caption, digit_captions, zero_shot
from mlzoo_nb.llm.quantized import load_quantized
from mlzoo_nb.models.zoo import zoo


def test_saved_llm_models_load_in_a_fresh_interpreter(tmp_path):
    images = digit_captions(3, seed=5).images
    cap, clip = zoo.create("multimodal/clip-llama-tiny"), zoo.create("multimodal/clip-zero-shot-tiny")
    q4 = load_quantized(zoo.create("lm/llama-tiny"), bits=4)
    cap.save(tmp_path / "cap"); clip.save(tmp_path / "clip"); q4.save(tmp_path / "q4")
    np.save(tmp_path / "images.npy", images)
    expected = {"cap": caption(cap, images, max_new_tokens=4), "clip": clip.predict_proba(images).round(6).tolist()}
    code = textwrap.dedent(f"""
        import json, sys, numpy as np
        from mlzoo_nb.models.pipeline import Pipeline
        from mlzoo_nb.models.zoo import zoo
        assert "mlzoo_nb.llm" not in sys.modules
        names = zoo.names()
        images = np.load({str(tmp_path / 'images.npy')!r})
        cap, clip, q4 = (Pipeline.load({str(tmp_path)!r} + "/" + n) for n in ("cap", "clip", "q4"))
        print(json.dumps({{"names": [n for n in names if n.startswith("multimodal/")],
                          "cap": cap.caption(images, max_new_tokens=4), "clip": clip.predict_proba(images).round(6).tolist(),
                          "q4": type(q4.backbone).__name__, "q4_bits": q4.backbone.quantization["bits"]}}))
    """)
    import json
    got = json.loads(run_python(code).stdout.strip().splitlines()[-1])
    assert got["names"] == ["multimodal/clip-llama-tiny", "multimodal/clip-zero-shot-tiny"]
    assert got["cap"] == expected["cap"] and got["clip"] == expected["clip"]
    assert got["q4"] == "QuantizedCausalLMBackbone" and got["q4_bits"] == 4


def test_pil_images_in_one_or_many():
    data = digit_captions(3, seed=2)
    pils = [Image.fromarray(a) for a in data.images]
    cap = zoo.create("multimodal/clip-llama-tiny")
    one = caption(cap, pils[0], max_new_tokens=3)
    assert isinstance(one, str)
    many = caption(cap, pils, max_new_tokens=3)
    assert many[0] == one and many == caption(cap, data.images, max_new_tokens=3)
    # a bigger grayscale PIL image is resized and made RGB like the image pipelines do
    gray = Image.fromarray(np.zeros((64, 64), dtype=np.uint8))
    assert isinstance(caption(cap, gray, max_new_tokens=2), str)
    clip = zoo.create("multimodal/clip-zero-shot-tiny")
    probs = zero_shot(clip, pils, labels=["red", "green", "blue"])
    assert probs.shape == (3, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    with torch.no_grad(): assert (clip.predict(pils) == clip.predict(data.images)).all()

"""mlzoo_nb.llm.quantized with real weights (SmolLM2-135M-Instruct in 4-bit nf4) and without bitsandbytes / peft.

The notebook nbs/llm/01_quantized.ipynb covers nf4/fp4/int8 on a tiny Llama (generate, save/load bit-exact, memory,
perplexity). Here: the real model, asked for with `zoo.create(..., load_in_4bit=True)`, loads straight from its folder
into 4-bit layers, is ~3x smaller, still answers,
and keeps its perplexity close; and a missing optional dependency names the `llm` extra.
"""
from __future__ import annotations
import textwrap

import pytest

from _util import run_python
from mlzoo_nb.llm.generation import chat
from mlzoo_nb.llm.quantized import memory_footprint
from mlzoo_nb.models.zoo import zoo

HELD_OUT = ["The sun rises in the east and sets in the west.",
            "Water is made of hydrogen and oxygen atoms.",
            "Paris is the capital and largest city of France."]


@pytest.mark.heavy
def test_smollm2_nf4_from_folder_is_smaller_still_answers_and_keeps_perplexity(smollm2_dir):
    q4 = zoo.create("lm/smollm2-135m-instruct", path=str(smollm2_dir), load_in_4bit=True)  # the recipe's option
    assert q4.recipe == "lm/smollm2-135m-instruct" and q4.backbone.quantization["quant_type"] == "nf4"
    assert type(q4.backbone.model.model.layers[0].mlp.up_proj).__name__ == "Linear4bit"
    assert q4.preprocessor.tokenizer.chat_template  # the tokenizer comes with the checkpoint
    fp = zoo.create("lm/smollm2-135m-instruct", path=str(smollm2_dir))
    ratio = memory_footprint(q4) / memory_footprint(fp)
    assert 0.2 < ratio < 0.45, ratio  # linear layers 4-bit; embeddings (tied, 28M params) stay fp32
    assert "4" in chat(q4, [{"role": "user", "content": "What is 2+2?"}], max_new_tokens=12)
    ppl_fp, ppl_q = fp.evaluate(HELD_OUT)["perplexity"], q4.evaluate(HELD_OUT)["perplexity"]
    # a 135M model feels 4 bits: measured 12.2 -> 18.6 (+52%) on these sentences; a broken load gives thousands
    assert 1.0 < ppl_q / ppl_fp < 2.0, (ppl_fp, ppl_q)


# a None entry in sys.modules makes `import x` fail and find_spec("x") report "not installed", as if x were absent
_BLOCK = """
import sys
for name in {blocked!r}: sys.modules[name] = None
"""


def test_4bit_without_bitsandbytes_and_lora_without_peft_name_the_llm_extra():
    "One fresh interpreter (imports cost ~8 s) with neither package: each feature says which extra installs it."
    code = _BLOCK.format(blocked=["bitsandbytes", "peft"]) + textwrap.dedent("""
        from mlzoo_nb.core.errors import MissingExtraError
        from mlzoo_nb.models.zoo import zoo
        from mlzoo_nb.llm.quantized import load_quantized
        from mlzoo_nb.llm.lora import lora
        for name, call in [("4bit", lambda: load_quantized(zoo.create("lm/llama-tiny"), bits=4)),
                           ("8bit", lambda: load_quantized(zoo.create("lm/llama-tiny"), bits=8)),
                           ("lora", lambda: lora(zoo.create("lm/llama-tiny")))]:
            try: call(); print(name, "NO ERROR")
            except MissingExtraError as e: print(name, "MISSING", e)
    """)
    lines = dict(line.split(" ", 1) for line in run_python(code).stdout.splitlines() if line.split(" ", 1)[0] in ("4bit", "8bit", "lora"))
    for name, module in [("4bit", "bitsandbytes"), ("8bit", "bitsandbytes"), ("lora", "peft")]:
        assert lines[name].startswith("MISSING") and f"`{module}`" in lines[name] and "pip install 'mlzoo_nb[llm]'" in lines[name], lines

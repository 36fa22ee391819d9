"""What the symbolic notebooks cannot test: fresh-process imports, a missing extra, randomised parser properties, and
the zoo's text/bert-tiny recipe end to end with rules."""
import random

import numpy as np
import pytest

from _util import run_python
from mlzoo_nb.core.errors import InputError
from mlzoo_nb.symbolic.rules import (RuleSet, RuleSyntaxError, Rule, Lit, Var, Call, Arith, Neg, Cmp, In, Not, And, Or,
                                     unparse)


def test_symbolic_modules_do_not_import_torch():
    out = run_python("import sys\nimport mlzoo_nb.symbolic.rules, mlzoo_nb.symbolic.semantics, mlzoo_nb.symbolic.tasks, "
                 "mlzoo_nb.symbolic.constrain, mlzoo_nb.symbolic.extract, mlzoo_nb.symbolic.panel\n"
                 "r = mlzoo_nb.symbolic.rules.RuleSet.parse('x < 1 -> class == \"a\"')\n"
                 "print('torch' in sys.modules, 'ipywidgets' in sys.modules)")
    assert out.stdout.split() == ["False", "False"]


def test_missing_lark_names_the_extra():
    out = run_python("import sys; sys.modules['lark'] = None\n"
                 "from mlzoo_nb.symbolic.rules import RuleSet\n"
                 "try: RuleSet.parse('x < 1')\n"
                 "except Exception as e: print(type(e).__name__, '|', e)")
    assert out.stdout.startswith("MissingExtraError |") and "mlzoo_nb[symbolic]" in out.stdout


# ---- randomised properties of the printer and the parser ----

NAMES = ["x", "petal_length", "class", "text", "`petal width (cm)`", "`and`"]
CLASSES = ["a", "b", 'quo"te', "back\\slash"]


def rand_num(r, depth):
    k = r.randrange(6 if depth > 0 else 2)
    if k == 0: return Lit(r.choice([0, 1, 2.5, 1e-3, 12345, 0.1]))
    if k == 1:
        name = r.choice(NAMES[:2] + NAMES[4:])
        return Var(name.strip("`"), quoted=name.startswith("`"))
    if k == 2:  # the parser reads "-" before a number as a negative number
        x = rand_num(r, depth - 1)
        return Lit(-x.value) if isinstance(x, Lit) else Neg(x)
    if k == 3: return Call("prob", (Lit(r.choice(CLASSES)),))
    if k == 4: return Call("abs", (rand_num(r, depth - 1),))
    return Arith(r.choice("+-*/"), rand_num(r, depth - 1), rand_num(r, depth - 1))


def rand_bool(r, depth):
    k = r.randrange(7 if depth > 0 else 4)
    if k == 0: return Cmp(r.choice(["<", "<=", ">", ">=", "==", "!="]), rand_num(r, depth - 1), rand_num(r, depth - 1))
    if k == 1: return Cmp(r.choice(["==", "!="]), Var("class"), Lit(r.choice(CLASSES)))
    if k == 2: return Call(r.choice(["contains", "startswith", "matches"]), (Var("text"), Lit(r.choice(["refund", "\\d+", "a'b"]))))
    if k == 3: return In(r.choice([Var("class"), Var("x")]), tuple(Lit(c) for c in r.sample(CLASSES, 2)), negated=r.random() < .5)
    if k == 4: return Not(rand_bool(r, depth - 1))
    parts = tuple(rand_bool(r, depth - 1) for _ in range(r.randint(2, 3)))
    # the parser flattens nested and/or: build the flat form it returns
    cls = And if k == 5 else Or
    flat = []
    for p in parts: flat.extend(p.parts if isinstance(p, cls) else [p])
    return cls(tuple(flat))


def test_random_rules_print_and_parse_back_identically():
    r = random.Random(0)
    rules = [Rule(rand_bool(r, 3) if r.random() < .7 else None, rand_bool(r, 3), f"rule{i}" if r.random() < .3 else None)
             for i in range(300)]
    text = "\n".join(str(x) for x in rules)
    back = RuleSet.parse(text)
    assert back.rules == rules
    for rule, line in zip(back, range(1, 301)): assert rule.line == line


def test_any_garbage_gives_a_syntax_error_with_a_position_inside_the_text():
    r = random.Random(1)
    alphabet = ["x", "class", "==", "<", "->", "(", ")", "[", "]", ",", "and", "or", "not", "in", '"a"', "1.5", "\n", ";",
                "prob(", "contains(text,", "=", "&", "`q", "#c", "-", "*"]
    kinds = set()
    for _ in range(400):
        text = " ".join(r.choice(alphabet) for _ in range(r.randint(1, 12)))
        try: RuleSet.parse(text)
        except RuleSyntaxError as e:
            lines = text.split("\n")
            assert 1 <= e.line <= len(lines), (text, e.line)
            assert 1 <= e.column <= len(lines[e.line - 1]) + 1, (text, e.line, e.column)
            assert isinstance(e, InputError) and f"line {e.line}, column {e.column}:" in str(e)
            kinds.add("error")
        else: kinds.add("ok")
    assert kinds == {"ok", "error"}


# ---- the zoo's tiny BERT on support messages, with rules ----

def test_text_bert_tiny_with_rules(tmp_path):
    import torch
    from mlzoo_nb.models.zoo import zoo
    from mlzoo_nb.models.pipeline import Pipeline
    from mlzoo_nb.symbolic.constrain import constrain
    from mlzoo_nb.symbolic.tasks import intent_data, INTENT_RULES, INTENT_CLASSES
    torch.set_num_threads(1)
    train, test = intent_data(200, seed=1, noise=0.3), intent_data(300, seed=2)
    rules = RuleSet.parse(INTENT_RULES)
    pipe = zoo.create("text/bert-tiny", labels=tuple(INTENT_CLASSES), max_length=48)
    pipe.fit(train, epochs=2, lr=3e-3, progress=False)
    neural = rules.check(pipe, test)
    hyb = constrain(pipe, rules, mode="inference")
    assert rules.check(hyb, test).summary["violation_rate"] == 0.0
    assert hyb.evaluate(test)["accuracy"] >= neural.summary["accuracy"]
    prov = hyb.provenance(test.inputs)
    assert len(prov) == int((hyb.predict(test.inputs) != pipe.predict(test.inputs)).sum())
    # a trained hybrid's network and its rule file travel together as plain files
    reg = constrain(pipe, rules, mode="training", weight=2.0, logic="semantic")
    reg.fit(train, epochs=1, lr=3e-3, progress=False)
    reg.pipe.save(tmp_path / "model"); rules.save(tmp_path / "model" / "rules.txt")
    back = constrain(Pipeline.load(tmp_path / "model"), RuleSet.load(tmp_path / "model" / "rules.txt"))
    assert np.array_equal(back.predict(test.inputs), constrain(reg, rules).predict(test.inputs))

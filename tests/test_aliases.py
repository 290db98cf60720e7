"""Where a variable's value goes within one statement (``aliases.Flow``): what the borrowing check relies on to
follow aliases it cannot name. Each case: a statement using ``cache``, and whether it may change it (write) or
hand it on (leak)."""

import ast

import pytest

from cnngrader.aliases import LEAK, WRITE, Flow

LIBRARIES = {"np": "numpy", "nn": "torch.nn", "torch": "torch", "typing": "typing", "operator": "operator"}


def flow(source, special=False):
    return Flow(ast.parse(source).body[0], LIBRARIES.get, LIBRARIES.__contains__, special)


def effect(source, names=frozenset({"cache"})):
    return flow(source).effect(names)


@pytest.mark.parametrize("source, expected", [
    # used up: nothing changes it, nothing keeps it
    ("print(len(cache), cache['n'] + 1, cache == {})", set()),
    ("if cache:\n    total = np.sum(cache['w'] - 1)", set()),   # arithmetic makes a new value (but for + * |)
    ("layers = nn.Sequential(*[nn.Conv1d(1, 8, k, dilation=d) for k, d in enumerate(cache)])", set()),
    ("x = torch.zeros(len(cache))", set()),
    # changed here
    ("cache['f'] = 1", {WRITE}),
    ("cache.update(f=1)", {WRITE}),
    ("[cache][0]['f'] = 1", {WRITE}),
    ("with cache:\n    pass", {WRITE}),
    ("operator.setitem(cache, 'f', 1)", {WRITE, LEAK}),
    ("helper(cache)", {WRITE, LEAK}),   # the notebook's own code may change it
    # handed on: to another name, another object, a caller
    ("box = [cache]", {LEAK}),
    ("box = typing.cast(dict, cache)", {LEAK}),        # a library call may hand it back
    ("holder.d = cache", {LEAK}),
    ("for d in (cache,):\n    pass", {LEAK}),
    ("def get():\n    return cache['a']", {LEAK}),
    ("fill = lambda d=cache: d.update(f=1)", {WRITE, LEAK}),
    ("def f():\n    d = [cache]\n    d[0]['f'] = 1", {WRITE}),   # a local alias, written through
    ("def f():\n    d = cache\n    return d", {LEAK}),
])
def test_where_the_value_goes(source, expected):
    assert effect(source) == expected


def test_a_container_of_the_value_is_followed_one_level_deep():
    assert flow("box = [cache]").leaks({"cache"}) == {("into", "box", 1)}
    assert flow("a, b = cache, 1").leaks({"cache"}) == {("into", "a", 0), ("into", "b", 0)}   # unpacked
    assert flow("results['pads'] = cache").leaks({"cache"}) == {("into", "results", 1)}
    # a box that holds the value: changing the box is not changing the value, changing what it holds is
    assert flow("box.append(1)").effect({"box"}, depth=1) == set()
    assert flow("box[0] = None").effect({"box"}, depth=1) == set()
    assert flow("box[0]['f'] = 1").effect({"box"}, depth=1) == {WRITE}
    assert flow("next(iter(box))['f'] = 1").effect({"box"}, depth=1) == {WRITE}   # a call may return the value
    assert flow("for d in box:\n    d['f'] = 1").effect({"box"}, depth=1) == {WRITE, LEAK}


def test_np_sum_result_bound_to_a_global_is_followed():
    # numpy may return what it is handed (np.asarray): the result is followed like the value itself
    assert effect("total = np.asarray(cache)") == {LEAK}
    assert effect("total = np.sum(cache)") == {LEAK}


def test_special_methods_of_the_notebook_get_what_is_compared_or_looked_up():
    def effect_with_special(source):
        return flow(source, special=True).effect({"cache"})
    assert effect("k == cache") == set() and effect_with_special("k == cache") == {WRITE, LEAK}
    assert effect_with_special("x = table[cache]") == {WRITE, LEAK}
    assert effect_with_special("print(len(cache))") == set()   # builtins that return their own type's values


def test_a_function_handed_a_value_is_read_from_its_parameters():
    assert effect("def keep(v):\n    KEPT.append(v)", None) == {WRITE, LEAK}
    assert effect("def show(v):\n    print(len(v))", None) == set()
    assert effect("class Box:\n    pass", None) == {WRITE, LEAK}   # a class's methods may do anything with it

# Reward function template: the agent puts the candidate code in the generated_code slot with str.format,
# so every other brace in this file is doubled. It runs inside a Sandpit sandbox as a Python `handler`.
import json

{generated_code}


def _same_items(a, b):
    return sorted(map(repr, a)) == sorted(map(repr, b))


def _mixed_types_ok():
    data = [3, "b", 1.5, "a", 2]
    result = sort_list(list(data))
    return isinstance(result, list) and _same_items(result, data)


def _does_not_mutate():
    data = [3, 1, 2]
    sort_list(data)
    return data == [3, 1, 2]


TESTS = [
    ("empty list", lambda: sort_list([]) == []),
    ("single element", lambda: sort_list([42]) == [42]),
    ("already sorted", lambda: sort_list([1, 2, 3]) == [1, 2, 3]),
    ("reversed", lambda: sort_list([5, 4, 3, 2, 1]) == [1, 2, 3, 4, 5]),
    ("duplicates", lambda: sort_list([3, 1, 2, 1, 3]) == [1, 1, 2, 3, 3]),
    ("negative numbers", lambda: sort_list([0, -5, 3, -1]) == [-5, -1, 0, 3]),
    ("floats and ints", lambda: sort_list([2.5, 1, 3.0, -0.5]) == [-0.5, 1, 2.5, 3.0]),
    ("strings", lambda: sort_list(["pear", "apple", "fig"]) == ["apple", "fig", "pear"]),
    ("mixed types keep every item", _mixed_types_ok),
    ("input not mutated", _does_not_mutate),
]


def handler(event, context):
    results = []
    for name, test in TESTS:
        try:
            passed = bool(test())
            error = None
        except Exception as exc:  # a failing candidate must not stop the scoring
            passed = False
            error = "%s: %s" % (type(exc).__name__, exc)
        results.append({{"name": name, "passed": passed, "error": error}})
    passed = sum(1 for result in results if result["passed"])
    total = len(results)
    body = {{"score": passed / total, "passed": passed, "total": total, "results": results}}
    return {{"statusCode": 200, "body": json.dumps(body)}}

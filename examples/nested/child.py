# A Python worker: one child sandbox of the example. Its handler's return value is the run's `response`.


def handler(event, context):
    numbers = event["numbers"]
    return {"worker": event["worker"], "sum": sum(numbers), "squares": [n * n for n in numbers]}

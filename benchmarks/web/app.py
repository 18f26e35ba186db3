"""The Flask app the web benchmark serves: a handler doing a few hundred
microseconds of ordinary Python work (templating a small JSON document)."""
import json

from flask import Flask

app = Flask(__name__)


def build(n):
    rows = [{"id": i, "name": "item-%d" % i, "tags": ["a", "b", str(i % 7)]} for i in range(n)]
    return json.dumps({"count": n, "rows": rows}, sort_keys=True)


@app.route("/items/<int:n>")
def items(n):
    return build(n)

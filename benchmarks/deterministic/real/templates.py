"""Jinja2 renders a product page SIZE times: template inheritance, a macro
per row, loops, filters and autoescaping of user text.

    python templates.py SIZE
"""
import sys
import time

import jinja2

FULL_SIZE = 400
QUICK_SIZE = 120

TEMPLATES = {
    "base.html": """<!doctype html><html><head><title>{% block title %}{% endblock %}</title></head>
<body><nav>{% for link in nav %}<a href="{{ link.url }}">{{ link.text|title }}</a>{% endfor %}</nav>
{% block body %}{% endblock %}<footer>{{ footer|e }}</footer></body></html>""",
    "page.html": """{% extends "base.html" %}
{% macro row(item, loop) -%}
<tr class="{{ loop.cycle('odd', 'even') }}"><td>{{ item.name|e }}</td><td>{{ "%.2f"|format(item.price) }}</td>
<td>{{ item.tags|join(", ") }}</td><td>{% if item.stock > 0 %}{{ item.stock }} left{% else %}sold out{% endif %}</td></tr>
{%- endmacro %}
{% block title %}{{ title|upper }}{% endblock %}
{% block body %}<h1>{{ title }}</h1><p>{{ intro|truncate(80) }}</p>
<table>{% for item in items|sort(attribute="price") %}{{ row(item, loop) }}{% endfor %}</table>
<ul>{% for group, members in items|groupby("category") %}<li>{{ group }}: {{ members|length }}</li>{% endfor %}</ul>
{% endblock %}""",
}


def main(size):
    env = jinja2.Environment(loader=jinja2.DictLoader(TEMPLATES), autoescape=True)
    page = env.get_template("page.html")
    items = [{"name": "item <%d> & co" % i, "price": (i * 37 % 1000) / 7.0, "tags": ["t%d" % (i % 5), "x"],
              "stock": i % 4, "category": "c%d" % (i % 6)} for i in range(60)]
    nav = [{"url": "/p/%d" % i, "text": "section %d" % i} for i in range(8)]
    start = time.perf_counter()
    total = 0
    for i in range(size):
        total += len(page.render(title="catalogue %d" % i, intro="An introduction " * 10, items=items, nav=nav,
                                 footer="(c) <pyrometer>"))
    sys.stderr.write("pyrobench: work_s=%.6f\n" % (time.perf_counter() - start))
    print(total)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else FULL_SIZE)

import json
import sys

print(json.dumps({
    "argv": sys.argv,
    "name": __name__,
    "file": __file__,
    "path0": sys.path[0],
    "package": __package__,
    "spec": __spec__.name,
}, sort_keys=True))

"""Build of the C core.  Sources are listed by directory so that a new file
in src/native is picked up without touching this file."""
import glob
import os

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def sources():
    out = []
    for sub in ("model", "codec", "input", "output", "collect", "bind"):
        out += sorted(glob.glob(os.path.join("src", "native", sub, "*.c")))
    out.append(os.path.join("src", "native", "module.c"))
    return out


flags = ["-std=c11", "-Wall", "-Wextra", "-Wpointer-arith", "-fvisibility=hidden"]
if os.environ.get("PYROMETER_WERROR"):
    flags.append("-Werror")

setup(
    ext_modules=[
        Extension(
            "pyrometer._native",
            sources=sources(),
            include_dirs=[os.path.join("src", "native")],
            extra_compile_args=flags,
            libraries=["z"],
            define_macros=[("_GNU_SOURCE", "1")],
        )
    ]
)

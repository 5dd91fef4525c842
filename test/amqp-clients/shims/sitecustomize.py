# Loaded by site.py at interpreter start-up because this directory is on PYTHONPATH (the tests put it there for the
# seed programs only). It makes Debian's current client libraries accept the older call forms the seed programs were
# written for: pika 0.x on pika 1.2, and py-amqp 1.4 on py-amqp 5.1 (which the amqplib.client_0_8 package here also
# builds on). It adapts client call signatures only; every frame still goes to the broker and every answer comes back
# from it. (This shadows Debian's own sitecustomize, which only installs the apport crash hook.)
#
# The patch is applied right after the real library module has been executed, so a program that never imports pika
# or amqp pays nothing.
import importlib
import importlib.abc
import sys

_PATCHES = {"pika": "warren_shims.pika_0x", "amqp": "warren_shims.amqp_14"}


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname not in _PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        real_exec_module = loader.exec_module

        def exec_module(module):
            real_exec_module(module)
            importlib.import_module(_PATCHES[fullname]).patch(module)

        loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _PatchAfterImport())

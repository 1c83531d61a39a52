"""CPU the moto server spends on every request or state, cut (it matters on a 2-core machine):

* the Step Functions interpreter parses each JSONPath on every use, building a new PLY parser
  each time (~20 ms): parse once per path with one shared parser;
* the server lists moto's package directory on every request to route it: list it once;
* every StartExecution parses the whole definition with ANTLR (~0.5 s for the old 3,100-line reconcile definition):
  parse each definition once and keep its parse tree, which is only read afterwards; each
  execution still gets its own evaluation components, built from the tree as before.
"""

import functools
import threading

import moto.backends as backends
from jsonpath_ng.ext.parser import ExtendedJsonPathParser
from jsonpath_ng.parser import JsonPathParser


def _cached_parse(parser_class):
    parser, lock = parser_class(), threading.Lock()

    @functools.lru_cache(maxsize=4096)
    def parse(path):
        with lock:  # a PLY parser keeps its parse state on the instance
            return parser.parse(path)

    return parse


def _cached_definition_parse(parse):
    trees, lock = {}, threading.Lock()

    def cached(definition):
        tree = trees.get(definition)
        if tree is None:
            program, tree = parse(definition)  # raises on a bad definition, which is then not kept
            with lock:
                if len(trees) >= 64:
                    trees.clear()
                trees[definition] = tree
            return program, tree
        from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

        return Preprocessor().visit(tree), tree

    return cached


def install():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    AmazonStateLanguageParser.parse = staticmethod(_cached_definition_parse(AmazonStateLanguageParser.parse))

    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
    import moto.stepfunctions.parser.asl.utils.json_path as json_path

    json_path.parse = _cached_parse(ExtendedJsonPathParser)
    result_path.parse = _cached_parse(JsonPathParser)

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: iter(modules)

"""CPU the moto server spends on every request or state, cut (it matters on a 2-core machine):

* the Step Functions interpreter parses each JSONPath on every use, building a new PLY parser
  each time (~20 ms): parse once per path with one shared parser;
* the server lists moto's package directory on every request to route it: list it once.
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


def install():
    import moto.stepfunctions.parser.asl.component.common.path.result_path as result_path
    import moto.stepfunctions.parser.asl.utils.json_path as json_path

    json_path.parse = _cached_parse(ExtendedJsonPathParser)
    result_path.parse = _cached_parse(JsonPathParser)

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: iter(modules)

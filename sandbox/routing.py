"""URL rules whose URL builders are compiled when first used, not when the rule is added.

werkzeug compiles two builder functions per rule as it is added (an ast and a compile() each): with the sandbox's
hundred-odd routes that was most of create_app's time, and only a few (pages and the console's links) are ever
built by url_for. Matching requests does not use them.
"""

from __future__ import annotations

from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    def _compile_builder(self, append_unknown: bool = True):
        def build(rule: Rule, *args, **kwargs):
            compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, "_build_unknown" if append_unknown else "_build", compiled)  # later calls go straight there
            return compiled(*args, **kwargs)

        return build

"""Hypothesis profiles for the domain tests. `mutmut` runs them under the "mutmut" profile: a failing
example is all it needs, so it skips shrinking (which can take a minute per killed mutant), and it
draws fewer examples from a fixed seed so that every run kills the same mutants."""

from __future__ import annotations

from hypothesis import Phase, settings

settings.register_profile(
    "mutmut",
    max_examples=25,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
)

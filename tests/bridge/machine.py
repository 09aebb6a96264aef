"""What both exactly-once state machines share (Maventa's and Maestro's): the world going wrong.

A subclass names the endpoints that may fail (``ENDPOINTS``), how they fail (``EFFECTS``) and where
the bridge process may die (``CRASH_POINTS``); the rules below draw from them: fault rules on any of
those endpoints (refused, or the answer lost after the service acted), a crash before or after
any of those calls, the clock moving (tokens expire, deliveries settle, claims run out), and
passes, a crashed pass followed by a new process over the same store.
"""

from __future__ import annotations

from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule

from scenarios.world import Crash, Crasher, World


class WorldMachine(RuleBasedStateMachine):
    ENDPOINTS: ClassVar[dict[str, list[dict[str, str]]]]
    EFFECTS: ClassVar[list[dict[str, Any]]]
    CRASH_POINTS: ClassVar[tuple[tuple[str, str], ...]]

    w: World
    crashers: list[Crasher]
    crashes: int

    @rule(data=st.data(), after=st.booleans(), count=st.integers(1, 4))  # > the client's 2 tries
    def add_fault(self, data: st.DataObject, after: bool, count: int) -> None:
        service = data.draw(st.sampled_from(sorted(self.ENDPOINTS)), label="service")
        match = data.draw(st.sampled_from(self.ENDPOINTS[service]), label="endpoint")
        effect = data.draw(st.sampled_from(self.EFFECTS), label="effect")
        # a plain refusal is never "after processing" (a service that acts and then answers 400
        # would be lying); on a retry after a lost answer it plays a service refusing the repeat
        self.w.sims[service].add_fault(
            {
                "match": match,
                "effect": {**effect, "after_processing": after and effect.get("status") != 400},
                "trigger": {"type": "next", "count": count},
            }
        )

    @rule(data=st.data(), nth=st.integers(1, 3), after=st.booleans())
    def arm_crash(self, data: st.DataObject, nth: int, after: bool) -> None:
        point = data.draw(st.sampled_from(self.CRASH_POINTS), label="crash point")
        self.crashers.append(Crasher(*point, nth=nth, after=after).install(self.w))

    @rule(seconds=st.sampled_from([30, 120, 3700]))
    def advance_clocks(self, seconds: int) -> None:
        self.w.advance(seconds)

    @rule(passes=st.integers(1, 3))
    def sync(self, passes: int) -> None:
        for _ in range(passes):
            try:
                self.w.run_pass()
            except Crash:
                self.crashes += 1
                self.w.restart()  # a new process over the same store

    def stop_the_trouble(self) -> None:
        """The end of the story: crashes disarmed, faults gone, a fresh process."""
        for c in self.crashers:
            c.fired = True  # disarmed: the wrappers only pass calls on now
        for sim in self.w.sims.values():
            sim.faults.clear()
        self.w.restart()

"""Named random streams: names, not creation order, decide the numbers.

Every random process draws from its own stream, derived from (seed, replication,
stream name). Adding a rep or a channel therefore never shifts another
process's numbers, which is what makes comparisons between designs paired
(common random numbers). There is no global random state.

Two kinds of stream:

- :func:`stream` gives a ``numpy.random.Generator`` for vectorised draws.
- :class:`LeadDice` gives per-lead uniforms from a counter-based hash: the
  uniform for (lead, purpose) is the same in every design, however many other
  draws happened before. A lead that meets the same rep luck in both designs
  makes paired differences small.
"""

from __future__ import annotations

import zlib

import numpy as np

_MASK = (1 << 64) - 1
SLOT_BITS = 20  # slots per lead: 2**20 (a lead can be an MQL at most 32767 times, x 32 slots)
_TO_UNIT = 1.0 / (1 << 53)


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """An independent generator for one random process, stable across designs."""
    key = (replication, zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def stream_key(seed: int, replication: int, name: str) -> int:
    """A 64-bit key for a counter-based stream, derived like :func:`stream`."""
    key = (replication, zlib.crc32(name.encode()))
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, np.uint64)
    return (int(state[0]) ^ (int(state[1]) << 1)) & _MASK


class LeadDice:
    """Uniform(0, 1) numbers addressed by (lead id, purpose): a counter-based stream.

    ``dice(lead, slot)`` always returns the same number for the same lead and
    slot, whatever else was drawn. Slots are small integers chosen by the
    caller (e.g. attempt number, stage index).
    """

    __slots__ = ("_key",)

    def __init__(self, seed: int, replication: int, name: str):
        self._key = stream_key(seed, replication, name)

    def __call__(self, lead: int, slot: int = 0) -> float:
        # splitmix64 finaliser over (key + lead * 2^20 + slot)
        x = (self._key + (lead << SLOT_BITS) + slot + 0x9E3779B97F4A7C15) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((x ^ (x >> 31)) >> 11) * _TO_UNIT

    def many(self, leads: np.ndarray, slots: np.ndarray) -> np.ndarray:
        """The same numbers as ``__call__``, for arrays of leads and slots (broadcast)."""
        x = np.asarray(leads, np.uint64) << np.uint64(SLOT_BITS)
        x = x + np.asarray(slots, np.uint64) + np.uint64((self._key + 0x9E3779B97F4A7C15) & _MASK)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return ((x ^ (x >> np.uint64(31))) >> np.uint64(11)).astype(np.float64) * _TO_UNIT

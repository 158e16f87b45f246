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
  makes paired differences small. A lead is named by its id (see
  :func:`lead_id_base`): the n-th lead of its source, not its place in the run.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

_MASK = (1 << 64) - 1
SLOT_BITS = 20  # slots per lead: 2**20 (a lead can be an MQL at most 32767 times, x 32 slots)
ORDINAL_BITS = 28  # leads per source and run: 2**28; with 16 bits of source, ids fit 64 - SLOT_BITS
_TO_UNIT = 1.0 / (1 << 53)


def stream(seed: int, replication: int, name: str) -> np.random.Generator:
    """An independent generator for one random process, stable across designs."""
    key = (replication, zlib.crc32(name.encode()))
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


def lead_id_base(source: str, taken: set[int]) -> int:
    """The first lead id of a lead source (a channel, its history, a team's prospecting).

    A source's n-th lead has id base + n, so a lead keeps its id, and its dice, in
    every design with that source, however many leads other sources make. The base
    comes from the source's name; ``taken`` holds the bases in use (a clash moves
    on to the next free one) and gets the new one.
    """
    space = 1 << (64 - SLOT_BITS - ORDINAL_BITS)
    slot = zlib.crc32(source.encode()) % space
    while slot in taken:
        slot = (slot + 1) % space
    taken.add(slot)
    return slot << ORDINAL_BITS


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
        return _finalise(x)


class DiceRows:
    """Rows of lead uniforms from several counter-based streams, hashed in one pass.

    Column ``j`` is ``(dice_j, slot_j)``: for lead ``i`` with base slot ``s``
    it holds ``dice_j(i, s + slot_j)``, the number :class:`LeadDice` gives.
    One pass over all columns costs a third of a pass per stream.
    """

    __slots__ = ("_offset",)

    def __init__(self, columns: Sequence[tuple[LeadDice, int]]):
        self._offset = np.array(
            [(d._key + slot + 0x9E3779B97F4A7C15) & _MASK for d, slot in columns], dtype=np.uint64
        )

    def __call__(self, leads: np.ndarray, base_slots: np.ndarray) -> np.ndarray:
        """A (leads x columns) array of uniforms."""
        x = np.asarray(leads, np.uint64) << np.uint64(SLOT_BITS)
        x += np.asarray(base_slots, np.uint64)
        return _finalise(x[:, None] + self._offset)


def _finalise(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser of a fresh uint64 array (overwritten), as uniforms."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    x >>= np.uint64(11)
    return x.astype(np.float64) * _TO_UNIT

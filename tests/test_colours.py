"""One colour per design, keyed by its name: the same in every figure of every command."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gtmsim.plots.style import DESIGN_ORDER, SHIPPED_COLOURS, design_colour, design_colours

SHIPPED = list(SHIPPED_COLOURS)


def test_a_shipped_design_keeps_its_colour_whatever_else_is_shown():
    alone = design_colours(["over_the_wall", "integrated"])
    everyone = design_colours(SHIPPED)
    reversed_ = design_colours(["integrated", "aligned", "over_the_wall"])
    for name in ("over_the_wall", "integrated"):
        assert alone[name] == everyone[name] == reversed_[name] == design_colour(name)
    assert len(set(everyone.values())) == len(SHIPPED)


def test_other_names_hash_to_a_palette_colour_stably():
    # a fixed expectation: the colour must not depend on the process (Python's hash does)
    assert design_colour("fast_follow_up") == design_colour("fast_follow_up")
    assert design_colour("fast_follow_up") in DESIGN_ORDER
    colours = {design_colour(f"design {i}") for i in range(50)}
    assert len(colours) > 5  # names spread over the palette


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=9, unique=True))
def test_designs_of_one_figure_never_share_a_colour(names):
    colours = design_colours(names)
    assert list(colours) == names
    assert len(set(colours.values())) == len(names)
    assert design_colours(names[::-1]) == {n: colours[n] for n in names[::-1]}


def test_figures_of_different_commands_agree(tmp_path):
    """The report's swatches, a figure's bars and the animation's panels use one colour."""
    import gtmsim
    from gtmsim.plots.animate import funnel_animation, read_event_log
    from tests.conftest import BASE

    journeys = {}
    for name in ("integrated", "over_the_wall"):  # an order the report never uses
        scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 7, "name": name})
        log = tmp_path / f"{name}.csv"
        result = gtmsim.simulate(scenario, 0, event_log=log)
        journeys[name] = read_event_log(log, 7, result.weekly["bookings_usd"])
    from gtmsim.plots.animate import save_animation

    animation = funnel_animation(journeys, frames=2, sample=50)
    save_animation(animation, tmp_path / "a.gif", fps=2)
    fig = animation._fig
    titles = {ax.get_title(): ax.title.get_color() for ax in fig.axes}
    assert titles["integrated"] == SHIPPED_COLOURS["integrated"]
    assert titles["over_the_wall"] == SHIPPED_COLOURS["over_the_wall"]

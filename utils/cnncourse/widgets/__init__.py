"""ipywidgets explorers. Each module pairs a pure update function (the figure's data for given
slider values, unit-tested) with a small ``explore()`` that wires it to sliders."""

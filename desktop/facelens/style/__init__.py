"""Neural style transfer: feed-forward ONNX networks that restyle a frame in one pass.

Qt-free. The pieces, each in its own module:

- :mod:`.models`: built-in model files and a cache of ONNX Runtime sessions.
- :mod:`.optimize`: a fused, numerically identical and faster copy of the 26-style network.
- :mod:`.styles`: style objects (built-in 26-style net, style-from-picture, user models, blends).
- :mod:`.usermodels`: user ONNX models with a JSON manifest, validated before use.
- :mod:`.render`: strength, processing resolution, temporal smoothing for one frame.
- :mod:`.live`: a worker thread that styles the newest frame only.
- :mod:`.overlay`, :mod:`.record`: recognition labels over styled video; PNG and MP4 output.
- :mod:`.video`: styling a whole video file with progress.
- :mod:`.cli`, :mod:`.bench`: ``facelens stylize`` and the style benchmark.
"""

from .errors import StyleError
from .render import StyleRenderer
from .styles import BuiltinStyle, PictureStyle, Style, StyleLibrary

__all__ = ["StyleError", "StyleRenderer", "Style", "BuiltinStyle", "PictureStyle", "StyleLibrary"]

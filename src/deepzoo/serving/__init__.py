"""The production side: the prediction server (and its page) and ONNX export."""

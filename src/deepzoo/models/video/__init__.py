"""Video families: ConvLSTM forecaster and CNN+LSTM classifier, their networks and metrics."""

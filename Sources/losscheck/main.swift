print("losscheck: not built yet")

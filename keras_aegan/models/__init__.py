"""The models: networks, layers and losses; the autoencoder and GAN families and their hybrids."""

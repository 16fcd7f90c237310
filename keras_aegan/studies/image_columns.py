"""The image study's columns and the questions its report asks (`study.images`)."""

from keras_aegan.studies.kinds import Column

COLUMNS = {
    "fid": Column("FID", "low", "{:.2f}", "Fréchet distance between Gaussian fits of the "
                  "evaluator's features of samples and of real test images (0: the same)."),
    "kid": Column("KID", "low", "{:.4f}", "kernel distance between the same features; "
                  "unbiased, so fairer than FID with few samples."),
    "two_sample": Column("two-sample acc", "low", "{:.3f}", "held-out accuracy of a fresh "
                         "small classifier trained to tell the samples from real test "
                         "images: 0.5 (the ideal) when it cannot tell them apart, 1.0 when "
                         "it spots every sample; below 0.5 is chance. Made only when the "
                         "study asks (`--task-option two_sample=true`)."),
    "precision": Column("precision", "high", "{:.3f}", "share of samples that fall among "
                        "real images (quality)."),
    "recall": Column("recall", "high", "{:.3f}", "share of real images the samples reach "
                     "(diversity)."),
    "density": Column("density", None, "{:.3f}", "about 1 when samples spread like real "
                      "images; above 1, samples crowd the commonest real images; below 1, "
                      "they sit where real images are rare. Not a score."),
    "coverage": Column("coverage", "high", "{:.3f}", "share of real images with a sample "
                       "nearby (diversity, robust to outliers)."),
    "classes_seen": Column("classes seen", "high", "{:.1f}", "classes the evaluator finds "
                           "among the samples (mode collapse drops some)."),
    "min_class_share": Column("min class share", "high", "{:.3f}", "share of the rarest "
                              "class among the samples (1/classes when balanced)."),
    "sharpness": Column("sharpness", None, "{:.2f}", "edge energy of the samples over that "
                        "of real images, in pixels: 1 is as sharp as real, well below 1 "
                        "blurry, above 1 noisy. Not a score: it says what FID can miss."),
    "memorisation_ratio": Column("memorisation", None, "{:.2f}", "distance of samples to "
                                 "their nearest training image over that of fresh real "
                                 "images: about 1 is healthy, well below 1 means copying."),
    "cas": Column("CAS", "high", "{:.3f}", "Classification Accuracy Score: real test "
                  "accuracy of a classifier trained only on the model's class-balanced "
                  "samples, labelled by the classes they were drawn for (conditional "
                  "models)."),
    "cas_evaluator_labels": Column("CAS (evaluator labels)", "high", "{:.3f}", "the same "
                                   "for an unconditional model, its samples labelled by "
                                   "the evaluator: it says whether the samples carry "
                                   "their class well enough to learn from, not whether "
                                   "the model knows the classes."),
    "mse": Column("recon MSE", "low", "{:.4f}", "mean squared error per pixel of test "
                  "images' reconstructions."),
    "psnr": Column("recon PSNR", "high", "{:.2f}", "peak signal-to-noise ratio of the "
                   "reconstructions, in dB."),
    "ssim": Column("recon SSIM", "high", "{:.3f}", "structural similarity of the "
                   "reconstructions (1: identical)."),
    "linear_probe": Column("linear probe acc", "high", "{:.3f}", "test accuracy of a "
                           "logistic regression on the model's features of images."),
    "knn": Column("k-NN acc", "high", "{:.3f}", "test accuracy of 5 nearest neighbours in "
                  "the model's feature space."),
    "train_seconds": Column("train s", "low", "{:.1f}", "training time (closed form for "
                            "a baseline).", contest=False),
    "steps": Column("steps", None, "{:,.0f}", "optimizer steps trained (the work; the "
                    "seconds are this machine's).", contest=False),
    "evaluate_seconds": Column("evaluate s", None, "{:.1f}", "seconds spent measuring "
                               "the model, while it trained and after.", contest=False),
    "export_seconds": Column("export s", None, "{:.1f}", "seconds spent exporting its "
                             "parts (SavedModel and TF Lite, each checked).",
                             contest=False),
    "parameters": Column("parameters", None, "{:,.0f}", "trainable and fixed weights.",
                         contest=False),
    "images_per_second": Column("images/s", "high", "{:,.0f}", "training images "
                                "processed per second.", contest=False),
}

# The questions the study asks: key, heading, the column that answers it, its columns,
# and what the reader should know about how it is measured.
QUESTIONS = (
    ("samples", "Who samples best?", "fid",
     ("fid", "kid", "two_sample", "precision", "recall", "density", "coverage", "classes_seen",
      "min_class_share", "sharpness", "memorisation_ratio", "cas", "cas_evaluator_labels"),
     "Generated images against real test images, on the features of the study's "
     "evaluator (a small classifier trained on this dataset's training images). FID here "
     "is not comparable with published Inception FIDs: other features, other data. The "
     "two-sample accuracy needs no evaluator: its classifier looks at the pixels."),
    ("reconstruction", "Who reconstructs best?", "psnr", ("mse", "psnr", "ssim"),
     "Test images and their reconstructions. A GAN has no encoder: it reconstructs by "
     "searching its noise for the closest image."),
    ("codes", "Whose codes are most useful?", "linear_probe", ("linear_probe", "knn"),
     "Probes trained on the features of training images (an autoencoder's code, a GAN "
     "discriminator's last hidden layer), tested on test images."),
    ("cost", "What did it cost?", None, ("steps", "train_seconds", "evaluate_seconds",
                                         "export_seconds", "parameters",
                                         "images_per_second"),
     "Facts, not contests: a closed-form baseline is not 'faster' at learning."),
)

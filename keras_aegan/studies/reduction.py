"""The dimensionality-reduction study: autoencoders vs PCA vs LLE at one code size
(`study --task reduction --latent-dim K`).

Every method maps the images to codes of size `K` (the study's `latent_dim`) and back:

- `pca`: PCA fitted on the training pool (`evaluation.codes.pca_codes`);
- `lle`: locally linear embedding fitted on at most `lle_max_train` training images; it has
  no decoder, so its reconstruction is a k-NN pre-image (`evaluation.codes.lle_codes`);
- the autoencoders (`linear_ae`, `dense_ae`, ... any registered autoencoder), trained by
  the runner on the study's budget.

Scores: the squared reconstruction error per test image (summed over pixels), and the test
accuracy of 5-NN and of logistic regression trained on the codes of the labelled training
pool. With `K = 2` the test codes are drawn side by side, coloured by label.
"""

from types import SimpleNamespace

from keras_aegan.errors import UserError
from keras_aegan.studies import kinds, report


class ReductionStudy(kinds.StudyKind):
    name = "reduction"
    # The default work, optimizer steps a model (the image study's: a minute or so each
    # on 2 cores).
    steps = 1200
    description = ("autoencoders vs PCA vs LLE at one code size (latent_dim): reconstruction "
                   "error, k-NN and logistic accuracy on the codes")
    models = ("pca", "lle", "linear_ae", "dense_ae")
    baselines = ("pca", "lle")
    options = {"lle_max_train": 2000, "neighbors": 5, "train_limit": None, "test_images": None}
    columns = {
        "error": kinds.Column("error", "low", "{:.2f}", "squared reconstruction error per "
                              "test image, summed over pixels (LLE: a k-NN pre-image)."),
        "knn": kinds.Column("k-NN", "high", "{:.2%}", "test accuracy of k-NN on the codes."),
        "logistic": kinds.Column("logistic", "high", "{:.2%}", "test accuracy of logistic "
                                 "regression on the codes."),
        "train_seconds": kinds.TRAIN_SECONDS,
        "parameters": kinds.PARAMETERS}
    title = "Dimensionality reduction: {study}"

    def check_model(self, config, name):
        from keras_aegan.registry import get_model_entry

        entry = get_model_entry(name)
        if entry.family != "autoencoder":
            raise UserError(f"{name!r} is a {entry.family}, not an autoencoder: the reduction "
                            "study compares codes and reconstructions")

    def prepare(self, config, options, log):
        from keras_aegan.data import subsets

        source = config.open_data()
        x, y, x_test, y_test = subsets.labelled_arrays(
            source, "the reduction study classifies codes", options["test_images"])
        if options["train_limit"]:  # the baselines' and the probes' pool, not the runs'
            x, y = x[:options["train_limit"]], y[:options["train_limit"]]
        log(f"{source.info.name}: {len(x)} training images, {len(x_test)} test images, code "
            f"size {config.latent_dim} -> {config.path}")
        return SimpleNamespace(info=source.info, x=x, y=y, x_test=x_test, y_test=y_test,
                               options=options)

    def baseline(self, config, data, name, seed):
        from keras_aegan.evaluation import codes

        k = config.latent_dim
        if name == "pca":
            train, test, recon, seconds = codes.pca_codes(data.x, data.x_test, k, seed)
            labels, note = data.y, ""
        else:
            train, test, recon, seconds, index = codes.lle_codes(
                data.x, data.x_test, k, max_train=data.options["lle_max_train"], seed=seed)
            labels, note = data.y[index], f"fit on {len(index)} training images"
        row = {"status": "computed", "train_seconds": seconds, "note": note}
        return row, (train, labels, test, recon), None

    def answer(self, config, data, name, model, seed):
        from keras_aegan.evaluation import codes

        return (codes.predict(model.encode, data.x), data.y,
                codes.predict(model.encode, data.x_test),
                codes.predict(lambda x: model(x, training=False), data.x_test))

    def score(self, config, data, answer, seed):
        import numpy as np

        from keras_aegan.evaluation import codes, metrics

        train, labels, test, recon = answer
        errors = np.sum((codes.flatten(data.x_test) - codes.flatten(recon)) ** 2, axis=1)
        knn, logistic = codes.code_accuracy(train, labels, test, data.y_test,
                                            n_neighbors=data.options["neighbors"], seed=seed)
        n = len(data.y_test)
        return {"error": float(errors.mean()),
                "error_se": float(errors.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0,
                "knn": knn, "knn_se": metrics.accuracy_standard_error(knn, n),
                "logistic": logistic,
                "logistic_se": metrics.accuracy_standard_error(logistic, n)}

    def results(self, config, data):
        return {"dataset": data.info.name, "code_size": config.latent_dim,
                "test_images": len(data.y_test)}

    def pictures(self, config, data, answers, results):
        """`embeddings.png`: the test codes of every method side by side, when they are 2-D."""
        import os

        from keras_aegan.evaluation.pictures import embedding_plot

        if config.latent_dim != 2:
            return {}
        n = min(2000, len(data.y_test))
        embedding_plot(os.path.join(config.path, "embeddings.png"),
                       {name: answer[2][:n] for name, answer in answers.items()
                        if answer is not None}, data.y_test[:n],
                       title=f"{results['dataset']}: 2-D codes of {n} test images")
        return {"embeddings": "embeddings.png"}

    def report(self, config, results, tables):
        lines = [f"Code size {results['code_size']}, {results['test_images']} test images of "
                 f"{results['dataset']}; k-NN and logistic regression are trained on the codes "
                 "of the labelled training pool.", "", "## Results", "", *tables.table(), "",
                 *tables.legend(), "", report.ARROWS, "",
                 *report.winners(results["summary"], tables.columns)]
        if results["pictures"].get("embeddings"):
            lines += ["", "![2-D codes](embeddings.png)"]
        return [*lines, "", report.exports_line(results["rows"], config.path)]


def table_rows(results):
    """The study's summary as the benchmarks print it: `method`, `k`, `error`, `knn`,
    `logistic`, `seconds`, `note` per method."""
    notes = {r["model"]: r["note"] if "note" in r else f"{r.get('steps', 0):,} steps, "
             f"{r.get('parameters', 0):,} params" for r in results["rows"]}
    return [{"method": e["model"], "k": results["code_size"], "error": e.get("error"),
             "knn": e.get("knn"), "logistic": e.get("logistic"),
             "seconds": e.get("train_seconds"), "note": notes.get(e["model"], "")}
            for e in results["summary"]]


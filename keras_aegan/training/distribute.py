"""Where a run trains: `tf.distribute` strategies by name, and this process's role in a cluster."""

import tensorflow as tf

from keras_aegan import compat
from keras_aegan.errors import UserError


def _tpu_strategy():
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


# Strategies by name. MultiWorkerMirroredStrategy reads the cluster from TF_CONFIG.
STRATEGIES = {
    "default": tf.distribute.get_strategy,
    "mirrored": compat.mirrored_strategy,
    "multiworker": tf.distribute.MultiWorkerMirroredStrategy,
    "tpu": _tpu_strategy,
}


def make_strategy(name):
    """The `tf.distribute` strategy registered under `name` (see `STRATEGIES`)."""
    if name not in STRATEGIES:
        raise UserError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}")
    try:
        return STRATEGIES[name]()
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        raise UserError(f"cannot start the {name} strategy: {e}") from None


def worker_role(strategy):
    """`(is_chief, "task_type-task_id")` of this process in a multi-worker cluster.

    Only the chief writes the run folder; other workers write their final model under
    `<run>/workers/<role>/` (a single process is its own chief).
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:
        return True, "chief"
    task_id = resolver.task_id or 0
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    chief = task_type == "chief" or (not has_chief and task_type == "worker" and task_id == 0)
    return chief, f"{task_type}-{task_id}"

"""The RPC URL of a pool download, from Kedro credentials."""

from __future__ import annotations

from kedro.framework.hooks import hook_impl

from ethpredict.params import RpcParams, coerce


class RpcCredentialsHook:
    """``rpc.url_credentials: KEY``: the node that takes ``params:rpc`` gets
    ``rpc.url`` from ``credentials[KEY].url``. Only that node's inputs are
    changed (Kedro's ``before_node_run`` return), so the URL is in no
    parameter that is written out (MLflow, the report)."""

    @hook_impl
    def after_context_created(self, context) -> None:
        self._context = context

    @hook_impl
    def before_node_run(self, node, catalog, inputs, is_async, run_id):
        rpc = inputs.get("params:rpc")  # a dict, or RpcParams (Kedro's validation)
        if rpc is None:
            return None
        p = coerce(RpcParams, rpc, "rpc")
        if not p.url_credentials:
            return None
        # lazy: the download module is needed only by a run that downloads
        from ethpredict.io.pool_download import url_from_credentials

        url = url_from_credentials(p, self._context.config_loader)
        resolved = p.model_copy(update={"url": url, "url_credentials": None})
        return {"params:rpc": resolved}

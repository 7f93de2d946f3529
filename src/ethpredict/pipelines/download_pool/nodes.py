"""Node of the download_pool pipeline."""

from __future__ import annotations

from ethpredict.errors import DownloadError
from ethpredict.io.pool_download import download_pool
from ethpredict.params import RpcParams


def download_pool_logs(rpc: RpcParams) -> dict:
    """Fetch the pool's logs and per-block table of ``rpc.start``..``rpc.end``
    from the node at ``rpc.url`` into ``rpc.dest`` (only what is missing) and
    return the download manifest. ``rpc`` is the validated model (Kedro
    validates typed ``params:`` inputs; the credentials hook resolves the URL)."""
    if not rpc.url:
        raise DownloadError(
            "download_pool needs rpc.url (e.g. --params=rpc.url=https://…, "
            "rpc.url: ${oc.env:ETH_RPC_URL}, or rpc.url_credentials: KEY with "
            "`KEY: {url: …}` in conf/local/credentials.yml)"
        )
    return download_pool(rpc, rpc.url)

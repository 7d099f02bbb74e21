#!/usr/bin/python3
"""sidecar_play.py — turns docker/kubernetes/sidecar.yaml into what the image
tier can run with `podman kube play`, changing only what this machine cannot
provide and saying so:

  * the cluster: the ConfigMap's upstreams name a PrivateLink endpoint; here
    a stand-in answers on the pod's loopback at 127.0.0.2 (kgate --demo
    --demo-listen 127.0.0.2, its 3 brokers on 8443-8445, like the NLB's),
    added as a third container;
  * the application: its image is a placeholder; here the kgate image idles
    and the test runs the librdkafka test client inside it (mounted from the
    build directory), so every request crosses the sidecar on loopback.

The kgate container, its probes, security context and ConfigMap mount are
played as written.

  sidecar_play.py SIDECAR_YAML IMAGE CLIENT_DIR > play.yaml
"""
import re
import sys

import yaml

STAND_IN = "127.0.0.2"


def main():
    src, image, client_dir = sys.argv[1:4]
    docs = list(yaml.safe_load_all(open(src)))
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    dep = next(d for d in docs if d["kind"] == "Deployment")
    cfg = cm["data"]["kgate.json"]
    cfg, n = re.subn(r'"([a-z0-9.-]+\.amazonaws\.com):(\d+)"', f'"{STAND_IN}:\\2"', cfg)
    if n == 0:
        sys.exit("sidecar_play: no upstream to point at the stand-in")
    cm["data"]["kgate.json"] = cfg
    spec = dep["spec"]["template"]["spec"]
    containers = spec["containers"]
    kgate = next(c for c in containers if c["name"] == "kgate")
    if kgate["image"] != image.split("/", 1)[-1]:
        sys.exit(f"sidecar_play: the example runs {kgate['image']}, the tier built {image}")
    app = next(c for c in containers if c["name"] == "app")
    app["image"] = image
    # Idle, and stop at once when told (sleep alone ignores SIGTERM as PID 1).
    app["command"] = ["sh", "-c", "trap 'exit 0' TERM; sleep infinity & wait"]
    app["volumeMounts"] = [{"name": "client", "mountPath": "/opt/test", "readOnly": True}]
    spec["volumes"].append({"name": "client",
                            "hostPath": {"path": client_dir, "type": "Directory"}})
    containers.append({"name": "cluster", "image": image,
                       "args": ["--demo", "--demo-listen", STAND_IN]})
    yaml.safe_dump_all([cm, dep], sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()

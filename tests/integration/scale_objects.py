"""Many BackupConfigurations on one `stash server`, made over one keep-alive
connection (hundreds of kubectl runs would take minutes): the shared part of
test_operator_tick_scale.py and bench/bench_operator.py.
"""
import http.client
import json


class Api:
    """One keep-alive HTTPS connection to the server, reopened on a drop."""

    def __init__(self, server, timeout=120):
        self.server, self.timeout = server, timeout
        self.hdrs = {"Authorization": "Bearer " + server.token, "Accept": "application/json",
                     "Content-Type": "application/json"}
        self.conn = None

    def call(self, method, path, body=None, content_type=None):
        headers = self.hdrs if content_type is None else dict(self.hdrs,
                                                              **{"Content-Type": content_type})
        for attempt in range(3):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(
                    "127.0.0.1", self.server.port, context=self.server.ssl_context(),
                    timeout=self.timeout)
            try:
                self.conn.request(method, path, body=None if body is None else json.dumps(body),
                                  headers=headers)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, json.loads(data) if data else None
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt == 2:
                    raise
        return None, None

    def create(self, path, obj):
        status, body = self.call("POST", path, obj)
        if status != 201:
            raise AssertionError("POST %s: %s %s" % (path, status, body))


def workload(ns, name, schedule, replicas=0, repository="repo"):
    """(path, object) to POST, in order: a PVC, a Deployment mounting it with
    `replicas` pods, and a BackupConfiguration of it on `schedule`."""
    pvc = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                    "resources": {"requests": {"storage": "1Gi"}}}}
    deploy = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
              "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                       "template": {"metadata": {"labels": {"app": name}},
                                    "spec": {"containers": [{
                                        "name": "busybox", "image": "busybox",
                                        "command": ["/bin/sh", "-c"], "args": ["sleep 3000"],
                                        "volumeMounts": [{"mountPath": "/source/data",
                                                          "name": "source-data"}]}],
                                        "volumes": [{"name": "source-data",
                                                     "persistentVolumeClaim": {
                                                         "claimName": name}}]}}}}
    bc = {"apiVersion": "stash.appscode.com/v1beta1", "kind": "BackupConfiguration",
          "metadata": {"name": name, "namespace": ns},
          "spec": {"repository": {"name": repository}, "schedule": schedule,
                   "target": {"ref": {"apiVersion": "apps/v1", "kind": "Deployment",
                                      "name": name},
                              "volumeMounts": [{"name": "source-data",
                                                "mountPath": "/source/data"}],
                              "paths": ["/source/data"]},
                   "retentionPolicy": {"name": "keep-last-5", "keepLast": 5, "prune": True}}}
    return (("/api/v1/namespaces/%s/persistentvolumeclaims" % ns, pvc),
            ("/apis/apps/v1/namespaces/%s/deployments" % ns, deploy),
            ("/apis/stash.appscode.com/v1beta1/namespaces/%s/backupconfigurations" % ns, bc))

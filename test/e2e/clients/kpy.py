#!/usr/bin/python3
"""kpy.py — kafka-python (Debian's python3-kafka) through a gateway: produce a
known set of messages (acks=all), read them back with a consumer group, and
check that exactly that set arrived, in order per partition, and that every
broker address the client learned is one of the expected ones.

    kpy.py BOOTSTRAP TOPIC COUNT EXPECTED[,EXPECTED...]

KPY_CA (a CA file) switches TLS on.  KPY_SASL=MECHANISM:USER:PASSWORD
logs in (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512): kafka-python 2.0.2 always
starts with SaslHandshake v0 and then sends its tokens unframed (a 4-byte
length, no request header), so only a gateway that terminates the login
itself can serve it — kgate's client_auth does; passing it through cannot.
"""
import sys
import time

import os

import kafka
from kafka import KafkaConsumer, KafkaProducer

DEADLINE_S = 120  # failsafe, not a speed check


def brokers_of(cluster):
    """Addresses in a kafka-python ClusterMetadata (the client's own view)."""
    return {"%s:%d" % (b.host, b.port) for b in cluster.brokers()}


def security():
    """Client settings from the environment: TLS with KPY_CA, a login with
    KPY_SASL."""
    settings = {}
    if os.environ.get("KPY_CA"):
        settings = {"security_protocol": "SSL", "ssl_cafile": os.environ["KPY_CA"]}
    if os.environ.get("KPY_SASL"):
        mechanism, user, password = os.environ["KPY_SASL"].split(":", 2)
        settings.update(security_protocol="SASL_SSL" if settings else "SASL_PLAINTEXT",
                        sasl_mechanism=mechanism, sasl_plain_username=user,
                        sasl_plain_password=password)
    return settings


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    bootstrap, topic, count, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), set(
        sys.argv[4].split(","))
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=10, **security())
    futures = [producer.send(topic, key=str(i).encode(), value=("kpy-%d" % i).encode())
               for i in range(count)]
    producer.flush(timeout=DEADLINE_S)
    for f in futures:
        f.get(timeout=DEADLINE_S)
    seen_brokers = brokers_of(producer._metadata)
    producer.close()

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id="kpy-" + topic,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000,
                             **security())
    got, last = {}, {}
    out_of_order = 0
    deadline = time.time() + DEADLINE_S
    while len(got) < count and time.time() < deadline:
        for msg in consumer:
            i = int(msg.value.decode().split("-")[1])
            got[i] = got.get(i, 0) + 1
            if last.get(msg.partition, -1) >= i:
                out_of_order += 1
            last[msg.partition] = i
            if len(got) == count:
                break
    seen_brokers |= brokers_of(consumer._client.cluster)
    consumer.close()

    missing = [i for i in range(count) if i not in got]
    dups = [i for i, n in got.items() if n > 1]
    stray = sorted(seen_brokers - expected)
    login = security()
    login = " as %s (%s)" % (login["sasl_plain_username"], login["sasl_mechanism"]) \
        if "sasl_mechanism" in login else ""
    print("kafka-python %s%s: produced %d, consumed %d distinct, %d missing, %d duplicated, "
          "%d out of order; brokers %s" % (kafka.__version__, login, count, len(got),
                                           len(missing), len(dups), out_of_order,
                                           sorted(seen_brokers)))
    if missing or dups or out_of_order or stray:
        if stray:
            print("kpy: broker addresses not the gateway's: %s" % stray, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

// ShareView.java — a share group (KIP-932) through a gateway: a producer
// writes ids 0..COUNT-1 at a steady rate while a KafkaShareConsumer reads
// them, acknowledges each one explicitly (ACCEPT) and commits the
// acknowledgements (ShareAcknowledge, or piggybacked on ShareFetch).  Share
// groups deliver at least once, so an id may come more than once; what must
// hold is that every id arrives and one of its acknowledgements succeeds, as
// the acknowledgement commit callback reports it, offset by offset (an
// acknowledgement sent to a partition's old leader fails, and the record is
// delivered again once its acquisition lock runs out).  The group
// is set to start at the earliest offset first (incrementalAlterConfigs on
// the GROUP resource), so nothing produced before the subscription is lost.
//
// Prints "PARTITION ID DELIVERY_COUNT" per record to OUT, then one summary
// line; exits 1 if an id is missing or an acknowledgement failed.
//
//   java -cp 'kafka-libs/*' ShareView.java BOOTSTRAP TOPIC GROUP COUNT RATE OUT
import java.io.PrintWriter;
import java.time.Duration;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class ShareView {
    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: ShareView BOOTSTRAP TOPIC GROUP COUNT RATE OUT");
            System.exit(2);
        }
        String bootstrap = args[0], topic = args[1], group = args[2];
        int count = Integer.parseInt(args[3]), rate = Integer.parseInt(args[4]);

        Properties ap = new Properties();
        ap.put("bootstrap.servers", bootstrap);
        try (Admin admin = Admin.create(ap)) {
            ConfigResource g = new ConfigResource(ConfigResource.Type.GROUP, group);
            admin.incrementalAlterConfigs(Map.of(g, List.of(new AlterConfigOp(
                    new ConfigEntry("share.auto.offset.reset", "earliest"),
                    AlterConfigOp.OpType.SET)))).all().get();
        }

        AtomicLong produced = new AtomicLong(), produceErrors = new AtomicLong();
        Thread producer = new Thread(() -> {
            Properties pp = new Properties();
            pp.put("bootstrap.servers", bootstrap);
            pp.put("acks", "all");
            pp.put("enable.idempotence", "true");
            pp.put("key.serializer", StringSerializer.class.getName());
            pp.put("value.serializer", StringSerializer.class.getName());
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                long t0 = System.nanoTime();
                for (int i = 0; i < count; i++) {
                    // Steady rate, so consumption spans the leader moves.
                    long due = t0 + (long) i * 1_000_000_000L / rate;
                    long wait = due - System.nanoTime();
                    if (wait > 0)
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                    p.send(new ProducerRecord<>(topic, Integer.toString(i), "sv-" + i),
                            (md, e) -> {
                                if (e != null)
                                    produceErrors.incrementAndGet();
                                else
                                    produced.incrementAndGet();
                            });
                }
                p.flush();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        producer.start();

        Properties cp = new Properties();
        cp.put("bootstrap.servers", bootstrap);
        cp.put("group.id", group);
        cp.put("share.acknowledgement.mode", "explicit");
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        BitSet seen = new BitSet(count), acked = new BitSet(count);
        // (partition, offset) -> id, for the callback's offsets.
        Map<Long, Integer> idAt = new HashMap<>();
        AtomicLong ackFailures = new AtomicLong();
        long records = 0, redelivered = 0, commits = 0;
        long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos();
        try (KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(cp);
             PrintWriter out = new PrintWriter(args[5])) {
            // Runs on this thread, inside poll() and commitSync().
            c.setAcknowledgementCommitCallback((offsets, e) -> {
                for (Map.Entry<TopicIdPartition, Set<Long>> o : offsets.entrySet()) {
                    int p = o.getKey().partition();
                    for (long off : o.getValue()) {
                        Integer id = idAt.remove(((long) p << 40) | off);
                        if (e == null && id != null)
                            acked.set(id);
                    }
                    if (e != null) {
                        ackFailures.incrementAndGet();
                        System.err.println("acknowledgement of " + o.getKey() + " failed: " + e);
                    }
                }
            });
            c.subscribe(List.of(topic));
            while (acked.cardinality() < count && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, String> r : recs) {
                    int id = Integer.parseInt(r.key());
                    short delivery = r.deliveryCount().orElse((short) 1);
                    records++;
                    if (seen.get(id) || delivery > 1)
                        redelivered++;
                    seen.set(id);
                    idAt.put(((long) r.partition() << 40) | r.offset(), id);
                    out.println(r.partition() + " " + id + " " + delivery);
                    c.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                if (recs.isEmpty())
                    continue;
                c.commitSync(); // outcomes reach the callback
                commits++;
            }
        }
        producer.join();
        int missing = count - seen.cardinality(), unacked = count - acked.cardinality();
        System.out.printf("share consumer: %d produced (%d produce errors), %d records read, "
                + "%d distinct, %d missing, %d not acknowledged, %d redelivered, %d commits, "
                + "%d failed acknowledgements%n", produced.get(), produceErrors.get(), records,
                seen.cardinality(), missing, unacked, redelivered, commits, ackFailures.get());
        System.exit(missing == 0 && unacked == 0 && produceErrors.get() == 0 ? 0 : 1);
    }
}

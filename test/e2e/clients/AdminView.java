// AdminView.java — the Java admin client's view of the cluster through a
// gateway: describeCluster() nodes and controller, and each partition's
// leader as describeTopics() reports it.  Prints one "node ID HOST:PORT" line
// per address it was given; exits 1 if any address is not in --expect.
//
//   java -cp 'kafka-libs/*' AdminView.java BOOTSTRAP EXPECTED[,EXPECTED...] [TOPIC]
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;

public class AdminView {
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: AdminView BOOTSTRAP EXPECTED[,EXPECTED...] [TOPIC]");
            System.exit(2);
        }
        Set<String> expected = new HashSet<>(Arrays.asList(args[1].split(",")));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
        props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        int bad = 0;
        try (Admin admin = Admin.create(props)) {
            DescribeClusterResult cluster = admin.describeCluster();
            for (Node n : cluster.nodes().get()) {
                bad += report("node", n, expected);
            }
            bad += report("controller", cluster.controller().get(), expected);
            if (args.length > 2) {
                TopicDescription d = admin.describeTopics(List.of(args[2]))
                        .allTopicNames().get().get(args[2]);
                for (TopicPartitionInfo p : d.partitions()) {
                    bad += report("leader of " + args[2] + "-" + p.partition(), p.leader(),
                            expected);
                }
            }
        }
        if (bad > 0) {
            System.err.println("AdminView: " + bad + " address(es) not the gateway's");
            System.exit(1);
        }
        System.out.println("AdminView: every address is the gateway's");
    }

    private static int report(String what, Node n, Set<String> expected) {
        String addr = n.host() + ":" + n.port();
        boolean ok = expected.contains(addr);
        System.out.println(what + " " + n.id() + " " + addr + (ok ? "" : "  <- NOT EXPECTED"));
        return ok ? 0 : 1;
    }
}

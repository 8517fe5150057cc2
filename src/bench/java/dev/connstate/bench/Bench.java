package dev.connstate.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import dev.connstate.bench.LoadGen.Workload;

/**
 * The side-by-side benchmark: plain Jetty against Jetty with a {@code ConnStateTracker}, under
 * the same load, alternating, in one run. See {@code src/bench/README.md}.
 *
 * <p>Every variant runs in a {@link BenchServer} JVM of its own, started once and kept for the
 * whole run (each keeps its own JIT profile: no type pollution between plain and tracked). For
 * each workload, every server is warmed up, then each round drives plain and every variant one
 * after the other (the order reverses every round: P C L J, J L C P, ...), and each variant's
 * figures are divided by plain's of the same round. The table reports the median of those
 * per-round ratios and their range.</p>
 */
public final class Bench
{
    private static final PrintStream OUT = System.out;

    private final Path dir = Path.of(System.getProperty("bench.out", "target/bench"));
    private final int seconds = Integer.getInteger("bench.seconds", 3);
    private final int warmup = Integer.getInteger("bench.warmup", 5);
    private final int rounds = Integer.getInteger("bench.rounds", 10);
    private final int idleConnections = Integer.getInteger("bench.idleConnections", 5000);
    private final List<Workload> workloads = list("bench.workloads", "h1,churn,h2c").stream().map(Workload::of).toList();
    // plain is always run, as every ratio's denominator: named here too, it would be a second plain server under the same name.
    private final List<String> variants = list("bench.variants", "count,log,jsonl,metrics").stream().filter(v -> !v.equals("plain")).distinct().toList();
    private final List<String> parts = list("bench.parts", "load,memory,alloc");
    private final List<String> jvmArgs = list("bench.jvmArgs", "-Xms512m -Xmx512m -XX:+UseG1GC", " ");
    private final Map<String, ServerProcess> servers = new LinkedHashMap<>();
    private final StringBuilder report = new StringBuilder();

    /** One measured run of one variant in one round. */
    record Run(Workload workload, int round, String variant, LoadGen.Result load, double cpuMicrosPerRequest,
               double allocBytesPerRequest, long dropped, long serverRequests, double sinkBytesPerRequest, double sinkCpuMicrosPerRequest)
    {
        /** The server's CPU per request outside the sink threads: what Jetty's own threads (and JIT, GC) spent. */
        double jettyCpuMicrosPerRequest()
        {
            return cpuMicrosPerRequest - sinkCpuMicrosPerRequest;
        }
    }

    private final List<Run> runs = new ArrayList<>();

    public static void main(String[] args) throws Exception
    {
        new Bench().run();
    }

    private static List<String> list(String property, String defaults)
    {
        return list(property, defaults, ",");
    }

    private static List<String> list(String property, String defaults, String separator)
    {
        String value = System.getProperty(property, defaults).trim();
        if (value.isEmpty())
            return List.of();
        return Arrays.stream(value.split(separator)).map(String::trim).filter(s -> !s.isEmpty()).toList();
    }

    private void run() throws Exception
    {
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("jsonl.jsonl"));
        Files.deleteIfExists(dir.resolve("connlog.jsonl"));
        for (String v : List.of("plain", "aa", "count", "keepalive", "protect", "inline", "queued", "log", "jsonl", "jsonl-null", "connlog", "metrics", "micrometer-jetty"))
            Files.deleteIfExists(dir.resolve(v + ".log"));
        if (parts.contains("load") || parts.contains("alloc"))
        {
            String missing = LoadGen.missingTools();
            if (missing != null)
            {
                System.err.println("ERROR: " + missing);
                System.exit(2);
            }
        }
        header();
        List<String> all = new ArrayList<>();
        all.add("plain");
        all.addAll(variants);
        if (parts.contains("alloc") && !all.contains("count"))
            all.add("count");
        try
        {
            for (String variant : all)
            {
                ServerProcess server = new ServerProcess(variant, dir, jvmArgs);
                servers.put(variant, server);
                log("started %s on port %d (pid %d)", variant, server.port, server.pid());
            }
            if (parts.contains("load"))
                load();
            if (parts.contains("alloc"))
                alloc();
            if (parts.contains("memory"))
                memory();
        }
        finally
        {
            for (ServerProcess server : servers.values())
                server.close();
        }
        report.append("- load average at end: ").append(loadAverage()).append("\n");
        Path results = dir.resolve("results.md");
        Files.writeString(results, report.toString());
        writeRuns();
        log("wrote %s", results.toAbsolutePath());
        OUT.println();
        OUT.println(report);
    }

    private void header()
    {
        report.append("# jetty-connstate: tracker vs plain Jetty, side by side\n\n");
        report.append(String.format("- run: %s, host: %d cores, %s %s, load average at start: %s%n", Instant.now(),
            Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"), loadAverage()));
        report.append(String.format("- %d rounds of %d s per variant per workload (after %d s warm-up per server and workload); order P,variants then reversed every round%n",
            rounds, seconds, warmup));
        report.append("- server JVMs: `").append(String.join(" ", jvmArgs)).append("`, one per variant, hello handler, 2 connectors on 127.0.0.1: HTTP/1.1 + h2c, and HTTP/1.1 over TLS (a self-signed EC P-256 certificate, no session tickets: every TLS connection a full handshake)\n");
        report.append(String.format("- CPUs (taskset): servers %s, load generators %s, sink threads %s%n", cpus("bench.serverCpus", "any"),
            cpus("bench.clientCpus", "any"), cpus("bench.sinkCpus", "with their server")));
        report.append("- variants (JMX on in every server): plain = Jetty alone; aa = Jetty alone again, in a JVM of its own (the A/A control: its ratios are the run's own spread); count = counting only (tracker without listeners, counts read through JMX: the module with blank sinks); keepalive = count + a keep-alive timeout of 2 h, above the connector's 1 h idle timeout (idle sockets' timeouts raised and lowered, the keep-alive scan running, never firing); protect = count + a request header timeout of 30 s and caps per client of 100,000 (the deadline scan running, each connection counted under its client, never firing); inline = count + an inline listener that counts; queued = tracker + a queued listener that does nothing (the hand-off to a sink's thread alone); log = tracker + queued LogSink (slf4j -> file); jsonl = tracker + queued JsonLinesSink (file, flushed whenever its queue is idle); jsonl-null = the same to /dev/null; connlog = tracker + queued ConnLogSink (file, one line per connection at its end); metrics = tracker + ConnStateMeterBinder on a Micrometer Prometheus registry; micrometer-jetty = no tracker, Micrometer's own JettyConnectionMetrics on a Prometheus registry, as Spring Boot binds it (the peer)\n");
        report.append("- ratios are variant / plain of the same round; table: median [min-max] over the rounds\n\n");
    }

    /** @return the CPUs {@code property} names, or {@code unset} if it names none */
    private static String cpus(String property, String unset)
    {
        String cpus = ServerProcess.cpus(property);
        return cpus.isEmpty() ? unset : cpus;
    }

    /** @return the space-separated words of a setting, none for a blank one */
    static List<String> words(String value)
    {
        return java.util.Arrays.stream(value.trim().split(" ")).filter(s -> !s.isEmpty()).toList();
    }

    static String loadAverage()
    {
        try
        {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        }
        catch (IOException x)
        {
            return "?";
        }
    }

    // ---- part 1: throughput, p99, CPU per request, side by side ----

    private void load() throws Exception
    {
        LoadGen gen = new LoadGen(dir);
        for (Workload workload : workloads)
        {
            log("== %s: %s", workload, gen.describe(workload));
            for (String variant : servers.keySet())
            {
                if (variant.equals("plain") || variants.contains(variant))
                {
                    Run r = measure(gen, workload, -1, variant, warmup);
                    log("warm-up %-5s %9.0f req/s", variant, r.load().requestsPerSecond());
                }
            }
            for (int round = 0; round < rounds; round++)
            {
                List<String> order = new ArrayList<>();
                order.add("plain");
                order.addAll(variants);
                if (round % 2 == 1)
                    Collections.reverse(order);
                Map<String, Run> byVariant = new HashMap<>();
                for (String variant : order)
                {
                    Run run = measure(gen, workload, round, variant, seconds);
                    runs.add(run);
                    byVariant.put(variant, run);
                }
                Run plain = byVariant.get("plain");
                StringBuilder line = new StringBuilder(String.format("round %2d plain %8.0f req/s p99 %7.0f us cpu %6.1f us/req |", round,
                    plain.load().requestsPerSecond(), plain.load().p99Micros(), plain.cpuMicrosPerRequest()));
                for (String variant : variants)
                {
                    Run v = byVariant.get(variant);
                    line.append(String.format(" %s thr %.3f p99 %.3f cpu %.3f%s |", variant,
                        v.load().requestsPerSecond() / plain.load().requestsPerSecond(),
                        v.load().p99Micros() / plain.load().p99Micros(),
                        v.cpuMicrosPerRequest() / plain.cpuMicrosPerRequest(),
                        v.dropped() > 0 ? " DROPPED " + v.dropped() : ""));
                }
                log("%s", line);
            }
        }
        loadTable();
    }

    private Run measure(LoadGen gen, Workload workload, int round, String variant, int seconds) throws Exception
    {
        ServerProcess server = servers.get(variant);
        server.truncateSinkFiles(dir);
        ServerProcess.Stats before = server.stats();
        LoadGen.Result result = gen.run(workload, server.port, server.tlsPort, seconds);
        ServerProcess.Stats after = server.drainedStats();
        long sinkBytes = server.truncateSinkFiles(dir);
        long requests = Math.max(1, after.requests() - before.requests());
        if (result.errors() > 0)
            log("WARNING: %s %s round %d: %d client errors", workload, variant, round, result.errors());
        return new Run(workload, round, variant, result,
            (after.cpuNanos() - before.cpuNanos()) / 1e3 / requests,
            (double)(after.allocatedBytes() - before.allocatedBytes()) / requests,
            after.dropped() - before.dropped(), requests, (double)sinkBytes / requests,
            (after.sinkCpuNanos() - before.sinkCpuNanos()) / 1e3 / requests);
    }

    /**
     * Targets: median throughput ratio at least, p99 ratio at most, CPU per request ratio at most
     * (NaN: none). Counting (issue 2 and 15: an inline listener as cheap as Go's hook, counting
     * h2c at CPU/request 1.01), metrics (issue 13), then the sinks (15).
     */
    private static double[] targets(Workload workload, String variant)
    {
        if (variant.equals("metrics"))
            return new double[]{0.97, 1.05, Double.NaN};
        // The parts of the sink's cost, the A/A control, the peer and other code: no target of their own.
        if (variant.equals("queued") || variant.equals("jsonl-null") || variant.equals("aa") || variant.equals("micrometer-jetty") || variant.contains("@"))
            return new double[]{Double.NaN, Double.NaN, Double.NaN};
        if (variant.equals("inline") && workload == Workload.h1)
            return new double[]{0.99, 1.05, 1.01};
        // keepalive is count with a keep-alive timeout that never fires: held to counting's targets.
        boolean counting = variant.equals("count") || variant.equals("inline") || variant.equals("keepalive") || variant.equals("protect");
        double throughput = switch (workload)
        {
            case h1 -> counting ? 0.98 : 0.95;
            case churn, tls_churn -> counting ? 0.97 : 0.93;
            case h2c -> counting ? 0.98 : 0.95;
        };
        return new double[]{throughput, counting ? 1.05 : 1.10, counting && workload == Workload.h2c ? 1.01 : Double.NaN};
    }

    private void loadTable()
    {
        report.append("## Throughput, p99 latency and server CPU per request (ratio tracker / plain)\n\n");
        report.append("| workload | variant | throughput ratio, median [min-max] | target | p99 ratio, median [min-max] | target | server CPU/request ratio, median [min-max] | target | ... outside the sink thread | sink thread, us/request | plain: req/s, p99, CPU/req (medians) | client errors | events dropped |\n");
        report.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (Workload workload : workloads)
        {
            List<Run> plainRuns = runs(workload, "plain");
            String plainFigures = String.format("%.0f/s, %.0f us, %.1f us", median(plainRuns, r -> r.load().requestsPerSecond()),
                median(plainRuns, r -> r.load().p99Micros()), median(plainRuns, Run::cpuMicrosPerRequest));
            for (String variant : variants)
            {
                List<Run> variantRuns = runs(workload, variant);
                double[] thr = ratios(plainRuns, variantRuns, r -> r.load().requestsPerSecond());
                double[] p99 = ratios(plainRuns, variantRuns, r -> r.load().p99Micros());
                double[] cpu = ratios(plainRuns, variantRuns, Run::cpuMicrosPerRequest);
                double[] jettyCpu = ratios(plainRuns, variantRuns, Run::jettyCpuMicrosPerRequest, Run::cpuMicrosPerRequest);
                double sinkCpu = median(variantRuns, Run::sinkCpuMicrosPerRequest);
                double[] target = targets(workload, variant);
                long errors = variantRuns.stream().mapToLong(r -> r.load().errors()).sum();
                long dropped = variantRuns.stream().mapToLong(Run::dropped).sum();
                report.append(String.format("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d |%n", workload.title, variant,
                    summary(thr), check(median(thr) >= target[0], ">= ", target[0]),
                    summary(p99), check(median(p99) <= target[1], "<= ", target[1]),
                    summary(cpu), check(median(cpu) <= target[2], "<= ", target[2]), sinkCpu > 0 ? summary(jettyCpu) : "", sinkCpu > 0 ? String.format("%.2f", sinkCpu) : "", plainFigures, errors, dropped));
            }
        }
        report.append("\nTargets: count = counting only (the counting targets are applied to inline, keepalive and protect too; their sink thread is the deadline scan's); the sink targets (jsonl) are applied to log and connlog too; tls-churn has churn's. ")
            .append("events dropped > 0 means the sink's queue overflowed: the sink did less work than asked and its cost is understated.\n");
        report.append("server CPU/request = process CPU time of the server JVM (all threads, incl. JIT and GC) / requests it handled; ")
            .append("it resolves small differences better than throughput when client and server share the cores. ")
            .append("... outside the sink thread: the same without the CPU time of the queued listeners' threads (connstate-*), over plain's whole CPU per request; ")
            .append("sink thread: their CPU time per request, in microseconds.\n\n");
        report.append("### Bytes allocated per request by the server JVM (all live threads; median over the rounds)\n\n");
        report.append("| workload | plain | ").append(String.join(" | ", variants)).append(" |\n");
        report.append("| --- | --- |").append(" --- |".repeat(variants.size())).append("\n");
        for (Workload workload : workloads)
        {
            double plain = median(runs(workload, "plain"), Run::allocBytesPerRequest);
            report.append(String.format("| %s | %.0f B |", workload.title, plain));
            for (String variant : variants)
            {
                double v = median(runs(workload, variant), Run::allocBytesPerRequest);
                report.append(String.format(" %.0f B (%+.0f) |", v, v - plain));
            }
            report.append("\n");
        }
        report.append("\n");
    }

    private List<Run> runs(Workload workload, String variant)
    {
        return runs.stream().filter(r -> r.workload() == workload && r.variant().equals(variant)).toList();
    }

    private static double[] ratios(List<Run> plain, List<Run> variant, ToDoubleFunction<Run> metric)
    {
        return ratios(plain, variant, metric, metric);
    }

    /** Per round: {@code metric} of the variant over {@code plainMetric} of plain. */
    private static double[] ratios(List<Run> plain, List<Run> variant, ToDoubleFunction<Run> metric, ToDoubleFunction<Run> plainMetric)
    {
        double[] ratios = new double[variant.size()];
        for (int i = 0; i < ratios.length; i++)
        {
            Run v = variant.get(i);
            Run p = plain.stream().filter(r -> r.round() == v.round()).findFirst().orElseThrow();
            ratios[i] = metric.applyAsDouble(v) / plainMetric.applyAsDouble(p);
        }
        return ratios;
    }

    private static double median(List<Run> runs, ToDoubleFunction<Run> metric)
    {
        return median(runs.stream().mapToDouble(metric).toArray());
    }

    static double median(double[] values)
    {
        if (values.length == 0)
            return Double.NaN;
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String summary(double[] ratios)
    {
        double min = Arrays.stream(ratios).min().orElse(Double.NaN);
        double max = Arrays.stream(ratios).max().orElse(Double.NaN);
        return String.format("%.3f [%.3f-%.3f]", median(ratios), min, max);
    }

    private static String check(boolean ok, String relation, double target)
    {
        return Double.isNaN(target) ? "" : relation + target + (ok ? " ok" : " **missed**");
    }

    private void writeRuns() throws IOException
    {
        if (runs.isEmpty())
            return;
        StringBuilder csv = new StringBuilder("workload,round,variant,requests,seconds,req_per_s,p99_us,client_errors,server_requests,cpu_us_per_req,alloc_bytes_per_req,dropped,sink_bytes_per_req,sink_cpu_us_per_req\n");
        for (Run r : runs)
        {
            csv.append(String.format(Locale.ROOT, "%s,%d,%s,%d,%.3f,%.1f,%.1f,%d,%d,%.3f,%.1f,%d,%.1f,%.3f%n", r.workload(), r.round(), r.variant(),
                r.load().requests(), r.load().seconds(), r.load().requestsPerSecond(), r.load().p99Micros(), r.load().errors(),
                r.serverRequests(), r.cpuMicrosPerRequest(), r.allocBytesPerRequest(), r.dropped(), r.sinkBytesPerRequest(), r.sinkCpuMicrosPerRequest()));
        }
        Files.writeString(dir.resolve("runs.csv"), csv);
    }

    // ---- part 4: allocation per request and per transition, counting configuration ----

    private void alloc() throws Exception
    {
        LoadGen gen = new LoadGen(dir);
        int allocRounds = Integer.getInteger("bench.alloc.rounds", 3);
        int allocSeconds = Integer.getInteger("bench.alloc.seconds", 3);
        report.append("## Allocation, counting configuration\n\n");
        report.append(String.format("Whole server JVM, bytes allocated by all live threads (ThreadMXBean.getThreadAllocatedBytes) per request handled, "
            + "median of %d alternating %d s runs after warm-up; the difference is what the tracker (bridge, counters, the HttpStream wrapper of HTTP/2 streams and upgrade requests) allocates.%n%n", allocRounds, allocSeconds));
        report.append("| workload | plain B/request | count B/request | difference B/request |\n| --- | --- | --- | --- |\n");
        for (Workload workload : workloads)
        {
            // Warm the path even when the load part did not run.
            if (!parts.contains("load"))
            {
                measure(gen, workload, -1, "plain", warmup);
                measure(gen, workload, -1, "count", warmup);
            }
            double[] plain = new double[allocRounds];
            double[] count = new double[allocRounds];
            for (int i = 0; i < allocRounds; i++)
            {
                plain[i] = measure(gen, workload, -1, "plain", allocSeconds).allocBytesPerRequest();
                count[i] = measure(gen, workload, -1, "count", allocSeconds).allocBytesPerRequest();
            }
            double p = median(plain);
            double c = median(count);
            log("alloc %s: plain %.0f B/req, count %.0f B/req, difference %+.0f B/req (plain %s, count %s)", workload, p, c, c - p,
                Arrays.toString(plain), Arrays.toString(count));
            report.append(String.format("| %s | %.0f | %.0f | %+.0f |%n", workload.title, p, c, c - p));
        }
        report.append("\nPer transition and per connection in process: the JMH microbenchmarks ")
            .append("(`mvn -Pbench test-compile exec:exec@jmh`, `ConnectionBench` and `RequestBench` with `-prof gc`, see src/bench/README.md).\n\n");
    }

    // ---- part 3: heap retained per open idle connection ----

    private void memory() throws Exception
    {
        report.append(String.format("## Heap retained per open idle keep-alive connection (%d connections, each after one request)%n%n", idleConnections));
        report.append("Used heap after full GCs in the server JVM, with the connections open minus before they were opened, divided by their number.\n\n");
        report.append("| variant | bytes / idle connection | tracker's share (variant - plain) | target |\n| --- | --- | --- | --- |\n");
        Map<String, Double> perConnection = new LinkedHashMap<>();
        Map<String, Map<String, long[]>> histograms = new HashMap<>();
        for (Map.Entry<String, ServerProcess> e : servers.entrySet())
        {
            String variant = e.getKey();
            ServerProcess server = e.getValue();
            long[] before = server.heap();
            List<SocketChannel> clients = openIdle(server.port, idleConnections);
            try
            {
                Thread.sleep(500);
                long[] with = server.heap();
                if (variant.equals("plain") || variant.equals("count"))
                    histograms.put(variant, Histogram.of(server.pid()));
                double bytes = (double)(with[0] - before[0]) / idleConnections;
                perConnection.put(variant, bytes);
                log("memory %s: %d -> %d bytes used, %d end points open, %d tracked: %.0f B/connection", variant, before[0], with[0], with[1], with[2], bytes);
                if (with[1] < idleConnections)
                    log("WARNING: only %d of %d connections open on the server", with[1], idleConnections);
            }
            finally
            {
                for (SocketChannel c : clients)
                    c.close();
            }
            // Let the server close them before measuring the next one.
            Thread.sleep(1000);
        }
        double plain = perConnection.get("plain");
        for (Map.Entry<String, Double> e : perConnection.entrySet())
        {
            boolean isPlain = e.getKey().equals("plain");
            double share = e.getValue() - plain;
            report.append(String.format("| %s | %.0f | %s | %s |%n", e.getKey(), e.getValue(), isPlain ? "-" : String.format("%+.0f", share),
                isPlain ? "-" : (share <= 200 ? "<= 200 B ok" : "<= 200 B **missed**")));
        }
        if (histograms.containsKey("plain") && histograms.containsKey("count"))
        {
            report.append("\nWhere the difference is (live-object class histograms, count - plain, with the connections open; `jcmd GC.class_histogram`):\n\n");
            report.append("| class | instances / connection | bytes / connection |\n| --- | --- | --- |\n");
            for (String row : Histogram.diff(histograms.get("plain"), histograms.get("count"), idleConnections, 12))
                report.append(row).append("\n");
        }
        report.append("\n");
    }

    private static final byte[] GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Opens {@code n} keep-alive connections, one request each, and leaves them open and idle. */
    private static List<SocketChannel> openIdle(int port, int n) throws IOException
    {
        List<SocketChannel> clients = new ArrayList<>(n);
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        try
        {
            for (int i = 0; i < n; i++)
            {
                SocketChannel c = SocketChannel.open(address);
                clients.add(c);
                c.write(ByteBuffer.wrap(GET));
                buffer.clear();
                // The response ends with the body "hello" (Content-Length: 5).
                while (true)
                {
                    if (c.read(buffer) < 0)
                        throw new IOException("Connection " + i + " closed by the server");
                    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
                    if (text.endsWith("\r\n\r\nhello"))
                        break;
                }
            }
        }
        catch (IOException x)
        {
            for (SocketChannel c : clients)
                c.close();
            throw x;
        }
        return clients;
    }

    static void log(String format, Object... args)
    {
        OUT.printf("[bench %tT] %s%n", System.currentTimeMillis(), String.format(format, args));
        OUT.flush();
    }
}

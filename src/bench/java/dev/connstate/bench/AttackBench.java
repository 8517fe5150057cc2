package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.connstate.bench.Attacker.Kind;
import dev.connstate.bench.LegitLoad.Load;

/**
 * A benchmark of an attack (issue 22): one client address holding as many silent connections and
 * trickled request heads as it can, against plain Jetty and against Jetty with the connstate
 * protections (request header timeout, caps per client address), while a legitimate client
 * on another address runs a keep-alive load and a new-connection load. See
 * {@code src/bench/README.md}, "An attack: AttackBench".
 *
 * <p>For each variant it runs the legitimate load twice, alone and under attack, each against an
 * {@link AttackServer} JVM of its own whose file descriptors are limited
 * ({@code ulimit -n}, {@code bench.attack.fdLimit}): the attacker ({@link Attacker}, from
 * 127.0.0.2) tries to hold more connections than that. It reports the legitimate requests, their
 * errors and latency (p99 alone and under attack), the attack connections open over time, and
 * how late the server closed the attack connections against their deadline.</p>
 */
public final class AttackBench
{
    private static final PrintStream OUT = System.out;
    private static final int[] POINTS = {1, 5, 10, 15, 20, 25, 30};

    private final Path dir = Path.of(System.getProperty("bench.out", "target/bench"));
    private final List<String> jvmArgs = Bench.words(System.getProperty("bench.jvmArgs", "-Xms512m -Xmx512m -XX:+UseG1GC"));
    private final List<String> variants = Bench.words(System.getProperty("bench.attack.variants", "plain,protected").replace(',', ' '));
    private final int seconds = Integer.getInteger("bench.attack.seconds", 25);
    private final int warmup = Integer.getInteger("bench.attack.warmup", 5);
    private final int fdLimit = Integer.getInteger("bench.attack.fdLimit", 1024);
    private final long idleMillis = Long.getLong("bench.attack.idleTimeoutMillis", 30_000);
    private final int acceptQueue = Integer.getInteger("bench.attack.acceptQueue", 0);
    private final long headerTimeoutMillis = Long.getLong("bench.attack.headerTimeoutMillis", 2000);
    private final int maxConnections = Integer.getInteger("bench.attack.maxConnections", 64);
    private final int maxNew = Integer.getInteger("bench.attack.maxNew", 8);
    private final String exempt = System.getProperty("bench.attack.exempt", "").trim();
    private final String attackAddress = System.getProperty("bench.attack.address", "127.0.0.2");
    private final int attackConnections = Integer.getInteger("bench.attack.connections", 1500);
    private final double openRate = Double.parseDouble(System.getProperty("bench.attack.openRate", "200"));
    private final double trickleShare = Double.parseDouble(System.getProperty("bench.attack.tricklers", "0.5"));
    private final long trickleMillis = Long.getLong("bench.attack.trickleMillis", 1000);
    private final long attackConnectTimeoutMillis = Long.getLong("bench.attack.attackConnectTimeoutMillis", 5000);
    private final int keepAlive = Integer.getInteger("bench.attack.keepAlive", 4);
    private final double keepAliveRate = Double.parseDouble(System.getProperty("bench.attack.keepAliveRate", "100"));
    private final int newConnections = Integer.getInteger("bench.attack.newConnections", 2);
    private final double newRate = Double.parseDouble(System.getProperty("bench.attack.newRate", "50"));
    private final int connectTimeoutMillis = Integer.getInteger("bench.attack.connectTimeoutMillis", 3000);
    private final int readTimeoutMillis = Integer.getInteger("bench.attack.readTimeoutMillis", 5000);

    /** The server's account of one attack connection's close (protected only). */
    record ServerClose(int port, long closedNanos, long ageNanos, String reason)
    {
    }

    /** What {@code stats} answered after the run. */
    record ServerStats(long rejected, long headerTimeouts, long clientLimits, long otherCloses, long endPoints)
    {
    }

    /** One run: a variant, alone or under attack. */
    record Run(String variant, boolean attacked, Map<Load, LegitLoad.Result> legit, Attacker attacker, List<Integer> fds, ServerStats stats, List<ServerClose> serverCloses, String log,
               double serverCpuSeconds, double benchCpuSeconds)
    {
        LegitLoad.Result all()
        {
            return LegitLoad.Result.merge(new ArrayList<>(legit.values()));
        }
    }

    /** An attack connection closed by the server, with the server's account of it when there is one. */
    record Matched(Attacker.Closed client, ServerClose server)
    {
        /** Closed at the header timeout: by the server's reason, else (no tracker) when it lived at least half the deadline. */
        boolean atDeadline(long deadlineNanos)
        {
            if (server != null)
                return "request_header_timeout".equals(server.reason());
            return client.lifeNanos() >= deadlineNanos / 2;
        }
    }

    private final List<Run> runs = new ArrayList<>();

    public static void main(String[] args) throws Exception
    {
        new AttackBench().run();
    }


    private void run() throws Exception
    {
        Files.createDirectories(dir);
        String loadAtStart = Bench.loadAverage();
        Instant began = Instant.now();
        for (String variant : variants)
        {
            runs.add(run(variant, false));
            runs.add(run(variant, true));
        }
        String table = report(began, loadAtStart);
        Path md = dir.resolve("attack.md");
        Files.writeString(md, table);
        OUT.println();
        OUT.println(table);
        OUT.println("wrote " + md.toAbsolutePath());
    }

    private static String quote(String arg)
    {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    private Run run(String variant, boolean attacked) throws Exception
    {
        String name = variant + "-" + (attacked ? "attacked" : "alone");
        Path log = dir.resolve("attack-" + name + ".log");
        List<String> java = new ArrayList<>();
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(jvmArgs);
        java.addAll(List.of("-cp", System.getProperty("java.class.path"), AttackServer.class.getName(), variant, String.valueOf(idleMillis), String.valueOf(acceptQueue),
            attackAddress, String.valueOf(headerTimeoutMillis), String.valueOf(maxConnections), String.valueOf(maxNew), exempt.isEmpty() ? "-" : exempt));
        List<String> command = new ArrayList<>(ServerProcess.pinned("bench.serverCpus"));
        command.addAll(List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec " + java.stream().map(AttackBench::quote).collect(Collectors.joining(" "))));
        Process server = new ProcessBuilder(command).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in = new PrintWriter(server.getOutputStream(), true, StandardCharsets.UTF_8);
        try
        {
            String ready = out.readLine();
            while (ready != null && !ready.startsWith("READY "))
                ready = out.readLine();
            if (ready == null)
                throw new IOException("The server did not start; see " + log);
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(ready.substring(6).trim()));

            long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100);
            long measureFrom = t0 + TimeUnit.SECONDS.toNanos(warmup);
            long measureTo = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
            LegitLoad legit = new LegitLoad(address, keepAlive, keepAliveRate, newConnections, newRate, connectTimeoutMillis, readTimeoutMillis, t0, measureFrom, measureTo);
            legit.start();
            sleepUntil(measureFrom);
            Attacker attacker = null;
            Thread attack = null;
            if (attacked)
            {
                attacker = new Attacker(address, attackAddress, attackConnections, openRate, trickleShare, trickleMillis, attackConnectTimeoutMillis, TimeUnit.SECONDS.toMillis(seconds));
                attack = new Thread(attacker, "attacker");
                attack.start();
            }
            long serverTicks = cpuTicks(server.pid());
            long benchCpu = benchCpuNanos();
            List<Integer> fds = new ArrayList<>();
            for (int s = 1; s <= seconds; s++)
            {
                sleepUntil(measureFrom + TimeUnit.SECONDS.toNanos(s) - TimeUnit.MILLISECONDS.toNanos(1));
                fds.add(openFiles(server.pid()));
            }
            // Over the window: the server JVM's CPU (user + system, clock ticks of 10 ms), the bench JVM's (legitimate client and attacker).
            double serverCpu = (cpuTicks(server.pid()) - serverTicks) / 100.0;
            double benchCpuSeconds = (benchCpuNanos() - benchCpu) / 1e9;
            if (attack != null)
            {
                attack.join();
                if (attacker.failure() != null)
                    throw new IOException("The attacker failed", attacker.failure());
            }
            Map<Load, LegitLoad.Result> results = legit.await();
            // The server reports the attacker's last closes (its own, at the end) on its threads.
            Thread.sleep(500);
            ServerStats stats = stats(ask(in, out, "stats"));
            List<ServerClose> closes = closes(in, out);
            Run run = new Run(variant, attacked, results, attacker, fds, stats, closes, log.getFileName().toString(), serverCpu, benchCpuSeconds);
            print(run);
            return run;
        }
        finally
        {
            in.println("quit");
            if (!server.waitFor(10, TimeUnit.SECONDS))
                server.destroyForcibly();
            server.waitFor();
        }
    }

    private static void sleepUntil(long nanos)
    {
        for (long wait = nanos - System.nanoTime(); wait > 0; wait = nanos - System.nanoTime())
            LockSupport.parkNanos(wait);
    }

    /** @return user + system CPU time of a process, in clock ticks (USER_HZ, 100 on Linux) */
    private static long cpuTicks(long pid)
    {
        try
        {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            // The fields after the command name, which is in parentheses: state is field 3, utime 14, stime 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
        catch (IOException | RuntimeException x)
        {
            return -1;
        }
    }

    private static long benchCpuNanos()
    {
        return ((com.sun.management.OperatingSystemMXBean)java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static int openFiles(long pid)
    {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd")))
        {
            return (int)fds.count();
        }
        catch (IOException | RuntimeException x)
        {
            return -1;
        }
    }

    private static String ask(PrintWriter in, BufferedReader out, String command) throws IOException
    {
        in.println(command);
        String line = out.readLine();
        if (line == null)
            throw new IOException("The server ended before answering " + command);
        return line;
    }

    private static ServerStats stats(String line) throws IOException
    {
        if (!line.startsWith("STATS "))
            throw new IOException("Unexpected answer to stats: " + line);
        long[] f = Arrays.stream(line.substring(6).trim().split(" ")).mapToLong(Long::parseLong).toArray();
        return new ServerStats(f[0], f[1], f[2], f[3], f[4]);
    }

    private static List<ServerClose> closes(PrintWriter in, BufferedReader out) throws IOException
    {
        in.println("closes");
        List<ServerClose> closes = new ArrayList<>();
        for (String line = out.readLine(); line != null && !line.equals("END"); line = out.readLine())
        {
            String[] f = line.split(" ");
            if (f.length == 5 && f[0].equals("CLOSE"))
                closes.add(new ServerClose(Integer.parseInt(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), f[4]));
        }
        return closes;
    }

    private void print(Run run)
    {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-9s %-8s", run.variant(), run.attacked() ? "attacked" : "alone"));
        run.legit().forEach((load, r) -> line.append(String.format(Locale.ROOT, " | %s: ok %d, errors %s, unsent %d, p99 %s", load.title, r.ok(), r.errorText(), r.unsent(), LegitLoad.millis(r.percentile(99)))));
        Attacker a = run.attacker();
        if (a != null)
        {
            line.append(String.format(Locale.ROOT, " | attack: max open %d, closed by server %d, connects %d/%d (timeouts %d, failed %d)",
                a.samples().stream().mapToInt(Attacker.Sample::open).max().orElse(0), a.closed().size(), a.connected(), a.attempts(), a.connectTimeouts(), a.connectFailures()));
        }
        line.append(String.format(Locale.ROOT, " | server fds max %d, CPU %.1f s, bench CPU %.1f s%s", run.fds().stream().mapToInt(Integer::intValue).max().orElse(-1),
            run.serverCpuSeconds(), run.benchCpuSeconds(), a == null ? "" : String.format(Locale.ROOT, " (attacker thread %.1f s)", a.cpuNanos() / 1e9)));
        OUT.println(line);
    }

    // ---- the report ----

    private Run find(String variant, boolean attacked)
    {
        return runs.stream().filter(r -> r.variant().equals(variant) && r.attacked() == attacked).findFirst().orElseThrow();
    }

    /** Pairs each attack connection the server closed with the server's account of it: same client port, the closest close in time. */
    private static List<Matched> matched(Run run)
    {
        Map<Integer, List<ServerClose>> byPort = new java.util.HashMap<>();
        for (ServerClose s : run.serverCloses())
            byPort.computeIfAbsent(s.port(), p -> new ArrayList<>()).add(s);
        List<Matched> matched = new ArrayList<>();
        for (Attacker.Closed c : run.attacker().closed())
        {
            List<ServerClose> candidates = byPort.getOrDefault(c.port(), List.of());
            ServerClose best = null;
            for (ServerClose s : candidates)
            {
                if (Math.abs(s.closedNanos() - c.closedNanos()) < TimeUnit.SECONDS.toNanos(1)
                    && (best == null || Math.abs(s.closedNanos() - c.closedNanos()) < Math.abs(best.closedNanos() - c.closedNanos())))
                    best = s;
            }
            if (best != null)
                candidates.remove(best);
            matched.add(new Matched(c, best));
        }
        return matched;
    }

    private static double percentOf(long lateNanos, long deadlineNanos)
    {
        return 100.0 * lateNanos / deadlineNanos;
    }

    private static String pct(double value)
    {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%+.1f%%", value);
    }

    private static String ratio(long alone, long attacked)
    {
        if (alone <= 0 || attacked <= 0)
            return "-";
        return String.format(Locale.ROOT, "%.2fx", attacked / (double)alone);
    }

    private static double median(double[] values)
    {
        return Bench.median(values);
    }

    private static double max(double[] values)
    {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }

    private String report(Instant began, String loadAtStart)
    {
        long deadlineNanos = TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        StringBuilder md = new StringBuilder();
        md.append("# An attack: silent connections and trickled heads from one address, against legitimate clients\n\n");
        md.append(String.format(Locale.ROOT, "- run: %s, host: %d cores, %s %s, load average at start: %s, at end: %s%n", began,
            Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"), loadAtStart, Bench.loadAverage()));
        md.append(String.format(Locale.ROOT, "- server: Jetty %s, HTTP/1.1 on 127.0.0.1, hello handler, a JVM of its own (`%s`) with `ulimit -n %d`, connector idle timeout %d ms, accept queue %s; a new JVM per run%n",
            org.eclipse.jetty.util.Jetty.VERSION, String.join(" ", jvmArgs), fdLimit, idleMillis, acceptQueue == 0 ? "Jetty's default (0: the JDK's backlog, 50)" : String.valueOf(acceptQueue)));
        md.append(String.format(Locale.ROOT, "- `plain`: Jetty alone; `protected`: + `ConnStateTracker` with requestHeaderTimeout %d ms, client.maxConnections %d, client.maxNew %d, exempt %s%n",
            headerTimeoutMillis, maxConnections, maxNew, exempt.isEmpty() ? "none" : exempt));
        md.append(String.format(Locale.ROOT, "- attacker, from %s, in the bench JVM (one NIO thread): tries to hold %d connections (%d%% head-tricklers: `GET / HTTP/1.1` then a header line every %d ms; the rest silent), re-opening each as soon as it is closed, at most %.0f opens/s, a connect given up after %d ms; for %d s%n",
            attackAddress, attackConnections, Math.round(trickleShare * 100), trickleMillis, openRate, attackConnectTimeoutMillis, seconds));
        md.append(String.format(Locale.ROOT, "- legitimate client, from 127.0.0.1, in the bench JVM: %d keep-alive connections x %.0f requests/s, and %d threads x %.0f new connections/s (`Connection: close`); open loop, each request's latency from when it was due; connect timeout %d ms, read timeout %d ms, no retries; %d s of warm-up, then %d s measured, alone, or with the attacker running through those %d s%n%n",
            keepAlive, keepAliveRate, newConnections, newRate, connectTimeoutMillis, readTimeoutMillis, warmup, seconds, seconds));

        md.append("## Legitimate requests\n\n");
        md.append("Latency of the OK responses from when each request was due (open loop): p50, p99; ratio: p99 under attack / p99 alone. "
            + "*Exchange p99*: the same responses timed from their send (a new connection's from its connect), alone / under attack: what one request took, without the wait behind the earlier ones of its thread. "
            + "Errors by kind; *unsent*: due in the window, not yet sent when it ended (the thread was still waiting on earlier requests).\n\n");
        md.append("| variant | load | alone: OK | errors | p50 | p99 | under attack: OK | errors | unsent | p50 | p99 | max | p99 ratio | exchange p99, alone / under attack |\n");
        md.append("| --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (String variant : variants)
        {
            Run alone = find(variant, false);
            Run attacked = find(variant, true);
            for (Load load : Load.values())
                legitRow(md, variant, load.title, alone.legit().get(load), attacked.legit().get(load));
            legitRow(md, variant, "**both**", alone.all(), attacked.all());
        }

        md.append("\nOK responses under attack, by the 5 s of the window in which they completed, beside the whole window's alone:\n\n");
        md.append("| variant | load | alone, whole window | under attack: |");
        for (int from = 0; from < seconds; from += 5)
            md.append(" ").append(from).append("-").append(Math.min(seconds, from + 5)).append(" s |");
        md.append("\n| --- | --- | ---: | --- |").append(" ---: |".repeat((seconds + 4) / 5)).append('\n');
        for (String variant : variants)
        {
            for (Load load : Load.values())
            {
                LegitLoad.Result attacked = find(variant, true).legit().get(load);
                md.append("| ").append(variant).append(" | ").append(load.title).append(" | ").append(find(variant, false).legit().get(load).ok()).append(" | |");
                for (int from = 0; from < seconds; from += 5)
                    md.append(' ').append(attacked.ok(from, from + 5)).append(" |");
                md.append('\n');
            }
        }

        md.append("\nCPU over the measured window, alone / under attack, seconds (2 cores shared with the rest of the host): server JVM; bench JVM (legitimate client and attacker); the attacker's thread.\n\n");
        md.append("| variant | server | bench | attacker |\n| --- | ---: | ---: | ---: |\n");
        for (String variant : variants)
        {
            Run alone = find(variant, false);
            Run attacked = find(variant, true);
            md.append(String.format(Locale.ROOT, "| %s | %.1f / %.1f | %.1f / %.1f | %.1f |%n", variant, alone.serverCpuSeconds(), attacked.serverCpuSeconds(),
                alone.benchCpuSeconds(), attacked.benchCpuSeconds(), attacked.attacker().cpuNanos() / 1e9));
        }

        md.append("\n## Attack connections\n\n");
        md.append("| | ").append(String.join(" | ", variants)).append(" |\n");
        md.append("| --- |").append(" --- |".repeat(variants.size())).append('\n');
        int[] points = Arrays.stream(POINTS).filter(p -> p <= seconds).toArray();
        row(md, "open (connected, not seen closed) at " + Arrays.stream(points).mapToObj(p -> p + " s").collect(Collectors.joining(", ")), r ->
            Arrays.stream(points).mapToObj(p -> r.attacker().samples().size() >= p ? String.valueOf(r.attacker().samples().get(p - 1).open()) : "-").collect(Collectors.joining(", ")));
        row(md, "open: max", r -> String.valueOf(r.attacker().samples().stream().mapToInt(Attacker.Sample::open).max().orElse(0)));
        row(md, "connecting (SYN not answered yet) at the same points", r ->
            Arrays.stream(points).mapToObj(p -> r.attacker().samples().size() >= p ? String.valueOf(r.attacker().samples().get(p - 1).connecting()) : "-").collect(Collectors.joining(", ")));
        row(md, "server's open file descriptors at the same points (limit " + fdLimit + ")", r ->
            Arrays.stream(points).mapToObj(p -> r.fds().size() >= p ? String.valueOf(r.fds().get(p - 1)) : "-").collect(Collectors.joining(", ")));
        md.append("| server's open file descriptors, max: alone / under attack |");
        for (String variant : variants)
            md.append(' ').append(max(find(variant, false).fds())).append(" / ").append(max(find(variant, true).fds())).append(" |");
        md.append('\n');
        row(md, "connects tried / completed / given up after " + attackConnectTimeoutMillis + " ms / failed", r -> String.format(Locale.ROOT, "%d / %d / %d / %d%s",
            r.attacker().attempts(), r.attacker().connected(), r.attacker().connectTimeouts(), r.attacker().connectFailures(),
            r.attacker().firstConnectFailure() == null ? "" : " (" + r.attacker().firstConnectFailure() + ")"));
        row(md, "closed by the server, silent / tricklers", r -> count(r, Kind.SILENT) + " / " + count(r, Kind.TRICKLER));
        row(md, "of which closed at their open (protected: reason `client_limit`; plain: before half the deadline)", r -> {
            List<Matched> m = matched(r);
            return m.stream().filter(x -> x.client().kind() == Kind.SILENT && !x.atDeadline(deadlineNanos)).count() + " / "
                + m.stream().filter(x -> x.client().kind() == Kind.TRICKLER && !x.atDeadline(deadlineNanos)).count();
        });
        row(md, "how the attacker saw the closes (end of stream / reset / failed write; the server answered first)", r -> String.format(Locale.ROOT, "%d / %d / %d; %d",
            r.attacker().closed().stream().filter(c -> c.how().equals("eof")).count(), r.attacker().closed().stream().filter(c -> c.how().equals("reset")).count(),
            r.attacker().closed().stream().filter(c -> c.how().equals("write")).count(), r.attacker().closed().stream().filter(Attacker.Closed::answered).count()));
        row(md, "held open to the end of the attack", r -> String.valueOf(r.attacker().heldToTheEnd()));
        row(md, "server (tracker): rejected (`client_limit`) / closed `request_header_timeout` / other closes of attack connections (the attacker's own, at its end)", r -> r.stats().rejected() < 0 ? "no tracker"
            : r.stats().rejected() + " / " + r.stats().headerTimeouts() + " / " + r.stats().otherCloses());

        md.append("\n## When the server closed the attack connections it closed at the deadline\n\n");
        md.append(String.format(Locale.ROOT, "Deadline: the request header timeout, %d ms from the accept (for both kinds: a trickler's first request never completes). Lateness = (close - open - deadline) / deadline. "
            + "*Attacker*: from its connect's completion to its seeing the close; *server*: the tracker's own age of the connection at its close (accept to close); *accept delay*: the tracker's accept minus the attacker's connect. Target: every close within +10%%.%n%n", headerTimeoutMillis));
        md.append("| variant | kind | closed at the deadline | attacker: median | attacker: max | attacker: min | server: median | server: max | server: min | accept delay: median / max |\n");
        md.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (String variant : variants)
        {
            Run r = find(variant, true);
            for (Kind kind : Kind.values())
            {
                List<Matched> at = matched(r).stream().filter(m -> m.client().kind() == kind && m.atDeadline(deadlineNanos)).toList();
                double[] client = at.stream().mapToDouble(m -> percentOf(m.client().lifeNanos() - deadlineNanos, deadlineNanos)).toArray();
                double[] server = at.stream().filter(m -> m.server() != null).mapToDouble(m -> percentOf(m.server().ageNanos() - deadlineNanos, deadlineNanos)).toArray();
                double[] delay = at.stream().filter(m -> m.server() != null).mapToDouble(m -> (m.server().closedNanos() - m.server().ageNanos() - m.client().openNanos()) / 1e6).toArray();
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |%n", variant, kind.name().toLowerCase(Locale.ROOT), at.size(),
                    pct(median(client)), pct(max(client)), pct(Arrays.stream(client).min().orElse(Double.NaN)),
                    pct(median(server)), pct(max(server)), pct(Arrays.stream(server).min().orElse(Double.NaN)),
                    delay.length == 0 ? "-" : String.format(Locale.ROOT, "%.1f / %.1f ms", median(delay), max(delay))));
            }
        }

        if (variants.contains("protected"))
        {
            Run alone = find("protected", false);
            Run attacked = find("protected", true);
            md.append("\n## Targets with the protections on (`protected`)\n\n");
            md.append("| target | measured | met |\n| --- | --- | --- |\n");
            long errors = attacked.all().errorCount() + attacked.all().unsent();
            md.append(String.format(Locale.ROOT, "| 0 legitimate errors under attack | errors %s, unsent %d | %s |%n", attacked.all().errorText(), attacked.all().unsent(), errors == 0 ? "yes" : "**no**"));
            for (Load load : Load.values())
                p99Target(md, load.title, alone.legit().get(load), attacked.legit().get(load));
            p99Target(md, "both loads", alone.all(), attacked.all());
            double[] late = matched(attacked).stream().filter(m -> m.atDeadline(deadlineNanos)).mapToDouble(m -> percentOf(m.client().lifeNanos() - deadlineNanos, deadlineNanos)).toArray();
            double[] lateServer = matched(attacked).stream().filter(m -> m.atDeadline(deadlineNanos) && m.server() != null)
                .mapToDouble(m -> percentOf(m.server().ageNanos() - deadlineNanos, deadlineNanos)).toArray();
            long over = Arrays.stream(late).filter(v -> v > 10).count();
            md.append(String.format(Locale.ROOT, "| attack connections closed within 10%% after their deadline (attacker's view) | %d closed at the deadline, max %s, %d over +10%% | %s |%n",
                late.length, pct(max(late)), over, late.length > 0 && over == 0 ? "yes" : "**no**"));
            long overServer = Arrays.stream(lateServer).filter(v -> v > 10).count();
            md.append(String.format(Locale.ROOT, "| the same, server's view (tracker's age at close) | max %s, %d over +10%% | %s |%n",
                pct(max(lateServer)), overServer, lateServer.length > 0 && overServer == 0 ? "yes" : "**no**"));
        }
        md.append("\nServers' logs: ").append(runs.stream().map(r -> "`" + r.log() + "`").collect(Collectors.joining(", "))).append(".\n");
        return md.toString();
    }

    private static void p99Target(StringBuilder md, String load, LegitLoad.Result alone, LegitLoad.Result attacked)
    {
        long a = alone.percentile(99);
        long b = attacked.percentile(99);
        boolean met = a > 0 && b > 0 && b <= 1.5 * a;
        md.append(String.format(Locale.ROOT, "| legitimate p99 under attack <= 1.5x alone, %s | %s vs %s: %s | %s |%n", load, LegitLoad.millis(b), LegitLoad.millis(a), ratio(a, b), met ? "yes" : "**no**"));
    }

    private static int max(List<Integer> values)
    {
        return values.stream().mapToInt(Integer::intValue).max().orElse(-1);
    }

    private static long count(Run r, Kind kind)
    {
        return r.attacker().closed().stream().filter(c -> c.kind() == kind).count();
    }

    private void row(StringBuilder md, String label, java.util.function.Function<Run, String> figure)
    {
        md.append("| ").append(label).append(" |");
        for (String variant : variants)
            md.append(' ').append(figure.apply(find(variant, true))).append(" |");
        md.append('\n');
    }

    private static void legitRow(StringBuilder md, String variant, String load, LegitLoad.Result alone, LegitLoad.Result attacked)
    {
        md.append(String.format(Locale.ROOT, "| %s | %s | %d | %s | %s | %s | %d | %s | %d | %s | %s | %s | %s | %s / %s |%n", variant, load,
            alone.ok(), alone.errorText() + (alone.unsent() > 0 ? ", unsent " + alone.unsent() : ""), LegitLoad.millis(alone.percentile(50)), LegitLoad.millis(alone.percentile(99)),
            attacked.ok(), attacked.errorText(), attacked.unsent(), LegitLoad.millis(attacked.percentile(50)), LegitLoad.millis(attacked.percentile(99)), LegitLoad.millis(attacked.percentile(100)),
            ratio(alone.percentile(99), attacked.percentile(99)), LegitLoad.millis(alone.exchangePercentile(99)), LegitLoad.millis(attacked.exchangePercentile(99))));
    }
}

package dev.connstate.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The load: {@code wrk} (HTTP/1.1 keep-alive and connection churn, in clear and over TLS) and
 * {@code h2load} (h2c), native load generators in processes of their own, so that the client
 * neither shares the server's JVM nor pays for a JIT of its own.
 */
final class LoadGen
{
    /** A workload: what the client does. */
    enum Workload
    {
        /** HTTP/1.1, persistent connections, many requests each. */
        h1("HTTP/1.1 keep-alive"),
        /** HTTP/1.1 with {@code Connection: close}: a new TCP connection per request (new, active, closed). */
        churn("HTTP/1.1 churn (new connection per request)"),
        /** h2c (prior knowledge): few connections, many concurrent streams on each. */
        h2c("h2c, concurrent streams"),
        /**
         * HTTP/1.1 over TLS with {@code Connection: close}: a new connection and a full handshake per
         * request, to the servers' TLS connector (which sends no session ticket, so wrk has nothing
         * to resume: see {@link BenchServer#tlsConnector}). The JDK's side of a handshake is the
         * dear one (an ECDSA P-256 signature and an X25519 exchange in Java: 1.5-2.2 ms of server
         * CPU per request on the 2-core dev VM, pinned and warm): with 4 to 16 connections the
         * server's core was busy all the time, so the server is the bottleneck. wrk's core is too,
         * but only because wrk polls a handshake in progress (some 50 reads that find nothing per
         * connection, strace): its CPU is not its work.
         */
        tls_churn("HTTP/1.1 over TLS churn (new connection and full handshake per request)");

        final String title;

        Workload(String title)
        {
            this.title = title;
        }

        /** @return the workload {@code bench.workloads} names {@code name} ({@code tls-churn} is {@link #tls_churn}) */
        static Workload of(String name)
        {
            return valueOf(name.replace('-', '_'));
        }

        /** @return its name in {@code bench.workloads} and runs.csv */
        @Override
        public String toString()
        {
            return name().replace('_', '-');
        }
    }

    /** One measured run of the load. */
    record Result(long requests, double seconds, double requestsPerSecond, double p99Micros, long errors, String raw)
    {
    }

    private final Path dir;
    private final int h1Connections = Integer.getInteger("bench.h1.connections", 32);
    private final int churnConnections = Integer.getInteger("bench.churn.connections", 8);
    private final int h2cConnections = Integer.getInteger("bench.h2c.connections", 4);
    private final int h2cStreams = Integer.getInteger("bench.h2c.streams", 32);
    private final int clientThreads = Integer.getInteger("bench.client.threads", 1);

    LoadGen(Path dir)
    {
        this.dir = dir;
    }

    /**
     * @return why the load generators cannot run, or {@code null} if they can
     */
    static String missingTools()
    {
        List<String> missing = new ArrayList<>();
        for (String tool : List.of("wrk", "h2load"))
        {
            if (!onPath(tool))
                missing.add(tool);
        }
        if (missing.isEmpty())
            return null;
        return "Load generator(s) not found on PATH: " + missing + ". Install them: apt-get install wrk nghttp2-client " +
            "(Debian/Ubuntu; brew install wrk nghttp2 on macOS), or run only -Dbench.parts=memory,alloc.";
    }

    private static boolean onPath(String tool)
    {
        String path = System.getenv("PATH");
        if (path == null)
            return false;
        return Arrays.stream(path.split(java.io.File.pathSeparator)).map(p -> Path.of(p, tool)).anyMatch(Files::isExecutable);
    }

    String describe(Workload workload)
    {
        return switch (workload)
        {
            case h1 -> "wrk -t" + clientThreads + " -c" + h1Connections + " --latency";
            case churn, tls_churn -> "wrk -t" + clientThreads + " -c" + churnConnections + " --latency -H 'Connection: close'" + (workload == Workload.tls_churn ? " https://" : "");
            case h2c -> "h2load -t" + clientThreads + " -c" + h2cConnections + " -m" + h2cStreams + " (h2c prior knowledge), p99 from --log-file";
        };
    }

    /**
     * @param port the server's connector (HTTP/1.1 and h2c)
     * @param tlsPort its HTTP/1.1 over TLS connector
     */
    Result run(Workload workload, int port, int tlsPort, int seconds) throws IOException, InterruptedException
    {
        String url = "http://127.0.0.1:" + port + "/";
        return switch (workload)
        {
            case h1 -> wrk(List.of("wrk", "-t" + clientThreads, "-c" + h1Connections, "-d" + seconds + "s", "--latency", url), seconds);
            case churn, tls_churn -> wrk(List.of("wrk", "-t" + clientThreads, "-c" + churnConnections, "-d" + seconds + "s", "--latency", "-H", "Connection: close",
                workload == Workload.churn ? url : "https://127.0.0.1:" + tlsPort + "/"), seconds);
            case h2c -> h2load(url, seconds);
        };
    }

    private static String exec(List<String> command, long timeoutSeconds) throws IOException, InterruptedException
    {
        List<String> pinned = new ArrayList<>(ServerProcess.pinned("bench.clientCpus"));
        pinned.addAll(command);
        Process p = new ProcessBuilder(pinned).redirectErrorStream(true).start();
        byte[] output = p.getInputStream().readAllBytes();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS))
        {
            p.destroyForcibly();
            throw new IOException("Timed out: " + command);
        }
        String text = new String(output, StandardCharsets.UTF_8);
        if (p.exitValue() != 0)
            throw new IOException("Exit " + p.exitValue() + " from " + command + ":\n" + text);
        return text;
    }

    private static final Pattern WRK_RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern WRK_TOTAL = Pattern.compile("(\\d+) requests in ([\\d.]+)(us|ms|s|m)");
    private static final Pattern WRK_P99 = Pattern.compile("^\\s*99(?:\\.000)?%\\s+([\\d.]+)(us|ms|s|m)\\s*$", Pattern.MULTILINE);
    private static final Pattern WRK_SOCKET = Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
    private static final Pattern WRK_NON2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");

    private Result wrk(List<String> command, int seconds) throws IOException, InterruptedException
    {
        String out = exec(command, seconds + 60L);
        double rps = Double.parseDouble(group(WRK_RPS, out, command));
        Matcher total = WRK_TOTAL.matcher(out);
        if (!total.find())
            throw new IOException("No request count in wrk output:\n" + out);
        long requests = Long.parseLong(total.group(1));
        double elapsed = micros(Double.parseDouble(total.group(2)), total.group(3)) / 1e6;
        Matcher p99 = WRK_P99.matcher(out);
        if (!p99.find())
            throw new IOException("No 99% latency in wrk output:\n" + out);
        double p99Micros = micros(Double.parseDouble(p99.group(1)), p99.group(2));
        long errors = 0;
        Matcher socket = WRK_SOCKET.matcher(out);
        if (socket.find())
        {
            for (int g = 1; g <= 4; g++)
                errors += Long.parseLong(socket.group(g));
        }
        Matcher non2xx = WRK_NON2XX.matcher(out);
        if (non2xx.find())
            errors += Long.parseLong(non2xx.group(1));
        return new Result(requests, elapsed, rps, p99Micros, errors, out);
    }

    private static final Pattern H2_FINISHED = Pattern.compile("finished in ([\\d.]+)(us|ms|s|m), ([\\d.]+) req/s");
    private static final Pattern H2_REQUESTS = Pattern.compile("requests: (\\d+) total, (\\d+) started, (\\d+) done, (\\d+) succeeded, (\\d+) failed, (\\d+) errored, (\\d+) timeout");

    private Result h2load(String url, int seconds) throws IOException, InterruptedException
    {
        try
        {
            return h2loadOnce(url, seconds);
        }
        catch (NoSuchFileException x)
        {
            // Seen once in a 30-round run on a loaded host: h2load reported its run but left no
            // request log. One lost run must not lose the others: the run is made again.
            System.out.println("WARNING: h2load left no request log (" + x.getFile() + "); running it again");
            return h2loadOnce(url, seconds);
        }
    }

    private Result h2loadOnce(String url, int seconds) throws IOException, InterruptedException
    {
        Path log = dir.resolve("h2load-requests.log");
        Files.deleteIfExists(log);
        List<String> command = List.of("h2load", "-t" + clientThreads, "-c" + h2cConnections, "-m" + h2cStreams,
            "-D", String.valueOf(seconds), "--log-file=" + log, url);
        String out = exec(command, seconds + 60L);
        Matcher finished = H2_FINISHED.matcher(out);
        if (!finished.find())
            throw new IOException("No throughput in h2load output:\n" + out);
        double elapsed = micros(Double.parseDouble(finished.group(1)), finished.group(2)) / 1e6;
        double rps = Double.parseDouble(finished.group(3));
        Matcher requests = H2_REQUESTS.matcher(out);
        if (!requests.find())
            throw new IOException("No request counts in h2load output:\n" + out);
        long done = Long.parseLong(requests.group(4));
        long errors = Long.parseLong(requests.group(5)) + Long.parseLong(requests.group(6)) + Long.parseLong(requests.group(7));
        // The log has one line per request: start time, status, duration in microseconds (tab-separated).
        long[] durations;
        try (Stream<String> lines = Files.lines(log))
        {
            durations = lines.map(l -> l.split("\t")).filter(f -> f.length >= 3).mapToLong(f -> Long.parseLong(f[2].trim())).sorted().toArray();
        }
        Files.deleteIfExists(log);
        if (durations.length == 0)
            throw new IOException("Empty h2load request log:\n" + out);
        double p99 = durations[Math.min(durations.length - 1, (int)Math.ceil(durations.length * 0.99) - 1)];
        return new Result(done, elapsed, rps, p99, errors, out);
    }

    private static String group(Pattern pattern, String text, List<String> command) throws IOException
    {
        Matcher m = pattern.matcher(text);
        if (!m.find())
            throw new IOException("Unexpected output of " + command + ":\n" + text);
        return m.group(1);
    }

    private static double micros(double value, String unit)
    {
        return switch (unit)
        {
            case "us" -> value;
            case "ms" -> value * 1e3;
            case "s" -> value * 1e6;
            case "m" -> value * 60e6;
            default -> throw new IllegalArgumentException(unit);
        };
    }
}

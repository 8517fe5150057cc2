package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.ToLongFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.bench.DrainClients.Kind;

/**
 * What clients see when a loaded server stops gracefully: plain Jetty with its
 * {@code GracefulHandler} (the {@code graceful} module) against Jetty with the connstate drain,
 * alternating, in one run. See {@code src/bench/README.md}.
 *
 * <p>Each round starts a {@link DrainServer} JVM per variant (the order alternates), loads it
 * with {@link DrainClients} for {@code bench.drain.loadMillis}, sends it a SIGTERM (Jetty's
 * shutdown hook runs the graceful stop, stop timeout 10 s) and keeps the clients going until the
 * process has exited. It counts what the clients saw by kind, times the stop (SIGTERM to exit)
 * and reads the drain's summary line from the server's log; the table gives the median and
 * range per round and the total over the rounds.</p>
 */
public final class DrainBench
{
    private static final PrintStream OUT = System.out;
    private static final List<String> VARIANTS = List.of("graceful", "drain");
    private static final Pattern CONNECTOR_SHUTDOWN = Pattern.compile("CONNECTOR_SHUTDOWN_NANOS (-?\\d+) (-?\\d+)");
    private static final Pattern DRAINED = Pattern.compile(
        "Drained in (\\d+) ms: (\\d+) connections closed idle, (\\d+) finished their request, (\\d+) closed new, (\\d+) forced at the deadline");

    private final Path dir = Path.of(System.getProperty("bench.out", "target/bench"));
    private final int rounds = Integer.getInteger("bench.rounds", 10);
    private final List<String> jvmArgs = Bench.words(System.getProperty("bench.jvmArgs", "-Xms512m -Xmx512m -XX:+UseG1GC"));
    private final int h1Connections = Integer.getInteger("bench.drain.h1", 32);
    private final int h2Sessions = Integer.getInteger("bench.drain.h2c", 4);
    private final int h2Streams = Integer.getInteger("bench.drain.streams", 8);
    private final long loadMillis = Long.getLong("bench.drain.loadMillis", 2000);
    private final long workMillis = Long.getLong("bench.drain.workMillis", 2);
    private final long retryMillis = Long.getLong("bench.drain.retryMillis", 100);

    /** The drain's summary line: its own duration and how its connections closed. */
    record Drained(long millis, long closedIdle, long finished, long closedNew, long forced)
    {
    }

    /**
     * Where an HTTP/1.1 request that got no response on a reused connection stood when the
     * connector shut down (from then on Jetty answers {@code Connection: close}): its connection
     * was idle (the previous response had ended before the shutdown began), or its previous
     * response was committed after the shutdown was done (it should have said
     * {@code Connection: close}), or else that response was committed before the shutdown was
     * done and ended after it began. Commit times are the server's, end times the client's (a
     * little later than the server's).
     */
    enum Race
    {
        IDLE, COMMITTED_BEFORE, BEGUN_AFTER
    }

    /**
     * One variant in one round.
     *
     * @param sigtermNanos when the SIGTERM was sent
     * @param shutdownNanos when the server's connector began to shut down (its log), 0 if unknown
     * @param shutdownDoneNanos when it was done, 0 if unknown
     */
    record Round(String variant, int round, Map<Kind, Long> counts, List<DrainClients.Event> events, long sigtermNanos, long shutdownNanos, long shutdownDoneNanos,
                 long stopMillis, int exitCode, boolean clientsEnded, Drained drained)
    {
        long count(Kind kind)
        {
            return counts.get(kind);
        }

        /** @return the HTTP/1.1 requests on reused connections that got no response, where they stood when the stop began */
        long raced(Race race)
        {
            return events.stream().filter(e -> e.kind() == Kind.NO_RESPONSE_H1_REUSED && race(e) == race).count();
        }

        Race race(DrainClients.Event e)
        {
            if (shutdownNanos == 0 || e.previousEndNanos() - shutdownNanos < 0)
                return Race.IDLE;
            return e.previousCommitNanos() - shutdownDoneNanos > 0 ? Race.BEGUN_AFTER : Race.COMMITTED_BEFORE;
        }

        /** @return milliseconds from the SIGTERM, signed */
        String at(long nanos)
        {
            return String.format(Locale.ROOT, "%+.2f ms", (nanos - sigtermNanos) / 1e6);
        }
    }

    /** A row of the table: a figure per round. */
    private record Row(String label, ToLongFunction<Round> figure)
    {
    }

    private final List<Round> results = new ArrayList<>();
    private final StringBuilder failureLog = new StringBuilder();

    public static void main(String[] args) throws Exception
    {
        new DrainBench().run();
    }


    private void run() throws Exception
    {
        Files.createDirectories(dir);
        String loadAtStart = Bench.loadAverage();
        Instant began = Instant.now();
        for (int round = 1; round <= rounds; round++)
        {
            List<String> order = round % 2 == 1 ? VARIANTS : List.of(VARIANTS.get(1), VARIANTS.get(0));
            for (String variant : order)
                results.add(round(variant, round));
        }
        String table = report(began, loadAtStart);
        Path md = dir.resolve("drain.md");
        Files.writeString(md, table);
        Path failures = dir.resolve("drain-failures.txt");
        Files.writeString(failures, failureLog.toString());
        OUT.println();
        OUT.println(table);
        OUT.println("wrote " + md.toAbsolutePath() + " and " + failures.toAbsolutePath());
    }

    private Round round(String variant, int round) throws Exception
    {
        Path log = dir.resolve("drain-" + variant + "-" + round + ".log");
        List<String> command = new ArrayList<>(ServerProcess.pinned("bench.serverCpus"));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), DrainServer.class.getName(), variant, String.valueOf(workMillis)));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
        Process server = builder.start();
        int port = awaitReady(server, log);
        DrainClients clients = new DrainClients(port, h1Connections, h2Sessions, h2Streams, retryMillis);
        Round result;
        try
        {
            clients.start();
            Thread.sleep(loadMillis);
            long sigterm = System.nanoTime();
            clients.stopSent(sigterm);
            // SIGTERM: Jetty's shutdown hook (stopAtShutdown) stops the server gracefully.
            server.destroy();
            boolean exited = server.waitFor(DrainServer.STOP_TIMEOUT_MILLIS + 20_000, TimeUnit.MILLISECONDS);
            long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm);
            if (!exited)
            {
                server.destroyForcibly();
                server.waitFor();
            }
            clients.serverGone();
            boolean ended = clients.awaitDone(10_000);
            Map<Kind, Long> counts = new EnumMap<>(Kind.class);
            for (Kind kind : Kind.values())
                counts.put(kind, clients.count(kind));
            String text = Files.readString(log);
            Matcher shutdown = CONNECTOR_SHUTDOWN.matcher(text);
            boolean found = shutdown.find();
            result = new Round(variant, round, counts, clients.events(), sigterm, found ? Long.parseLong(shutdown.group(1)) : 0, found ? Long.parseLong(shutdown.group(2)) : 0,
                stopMillis, exited ? server.exitValue() : -1, ended, drained(text));
            record(result);
        }
        finally
        {
            clients.close();
            if (server.isAlive())
                server.destroyForcibly();
        }
        OUT.printf(Locale.ROOT, "round %d %-8s stop %5d ms, exit %d%s | ok %d (%d after SIGTERM), 503 %d/%d, no response %d/%d/%d, cut %d/%d, refused streams %d, refused connects %d%s%n",
            round, variant, result.stopMillis(), result.exitCode(), result.drained() == null ? "" : ", drained in " + result.drained().millis() + " ms",
            result.count(Kind.OK_H1) + result.count(Kind.OK_H2), result.count(Kind.OK_AFTER_STOP),
            result.count(Kind.S503_H1), result.count(Kind.S503_H2),
            result.count(Kind.NO_RESPONSE_H1_REUSED), result.count(Kind.NO_RESPONSE_H1_NEW), result.count(Kind.NO_RESPONSE_H2),
            result.count(Kind.CUT_H1), result.count(Kind.CUT_H2), result.count(Kind.REFUSED_STREAM), result.count(Kind.REFUSED_CONNECT),
            result.clientsEnded() ? "" : " (clients did not all end)");
        return result;
    }

    private static int awaitReady(Process server, Path log) throws IOException
    {
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        while (line != null && !line.startsWith("READY "))
            line = out.readLine();
        if (line == null)
        {
            server.destroyForcibly();
            throw new IOException("The server did not start; see " + log);
        }
        return Integer.parseInt(line.substring(6).trim());
    }

    /** Writes down every failure of the round, with its times from the SIGTERM. */
    private void record(Round r)
    {
        failureLog.append(String.format(Locale.ROOT, "== round %d %s: SIGTERM at +0 ms, connector shut down from %s to %s, process exited at +%d ms%s%n", r.round(), r.variant(),
            r.shutdownNanos() == 0 ? "?" : r.at(r.shutdownNanos()), r.shutdownDoneNanos() == 0 ? "?" : r.at(r.shutdownDoneNanos()), r.stopMillis(), r.drained() == null ? "" : ", " + r.drained()));
        for (DrainClients.Event e : r.events())
        {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %s: %s", r.at(e.atNanos()), e.kind() == null ? "note" : e.kind(), e.what()));
            if (e.sentNanos() != 0)
                line.append("; request sent at ").append(r.at(e.sentNanos()));
            if (e.previousEndNanos() != 0)
                line.append(String.format(Locale.ROOT, ", %.3f ms after the previous response's end (committed at %s, its end at %s: %s)",
                    (e.sentNanos() - e.previousEndNanos()) / 1e6, r.at(e.previousCommitNanos()), r.at(e.previousEndNanos()), r.race(e)));
            failureLog.append(line).append('\n');
        }
    }

    private static Drained drained(String log)
    {
        Matcher m = DRAINED.matcher(log);
        if (!m.find())
            return null;
        return new Drained(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3)), Long.parseLong(m.group(4)), Long.parseLong(m.group(5)));
    }

    private static long drainedFigure(Round r, ToLongFunction<Drained> figure)
    {
        return r.drained() == null ? -1 : figure.applyAsLong(r.drained());
    }

    private String report(Instant began, String loadAtStart)
    {
        StringBuilder md = new StringBuilder();
        md.append("# Graceful stop under load: what clients see, Jetty's graceful module vs the connstate drain\n\n");
        md.append(String.format(Locale.ROOT, "- run: %s, host: %d cores, %s %s, load average at start: %s, at end: %s%n", began,
            Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"), loadAtStart, Bench.loadAverage()));
        md.append(String.format(Locale.ROOT, "- %d rounds; in each, a server JVM per variant (order alternating), loaded for %d ms, then SIGTERM: Jetty's shutdown hook stops it gracefully (stopTimeout %d ms); the clients go on until the process has exited%n",
            rounds, loadMillis, DrainServer.STOP_TIMEOUT_MILLIS));
        md.append("- `graceful`: plain Jetty + `GracefulHandler` (what the `graceful` module installs); `drain`: Jetty + `ConnStateTracker` (drain on, no GracefulHandler); same connector (HTTP/1.1 + h2c), same handler: ")
            .append(DrainServer.BODY_BYTES).append(" bytes in two writes, ").append(workMillis).append(" ms of work before each\n");
        md.append(String.format(Locale.ROOT, "- clients, no retries: %d HTTP/1.1 keep-alive connections (raw sockets, a request at a time, each connection checked for the server's close before reuse, as a pool does), %d h2c sessions x %d concurrent streams (Jetty's HTTP2Client; no new stream after a GOAWAY); a closed connection is replaced, a refused connect retried every %d ms%n",
            h1Connections, h2Sessions, h2Streams, retryMillis));
        md.append("- per variant: median [min-max] per round, and the total over the rounds\n\n");
        md.append("| | graceful | | drain | |\n");
        md.append("| --- | --- | --- | --- | --- |\n");
        md.append("| **failures** | median [min-max] | total | median [min-max] | total |\n");
        rows(md, List.of(
            new Row("503 responses, HTTP/1.1", r -> r.count(Kind.S503_H1)),
            new Row("503 responses, h2c", r -> r.count(Kind.S503_H2)),
            new Row("no response, HTTP/1.1, on a connection idle when the connector shut down: raced an idle close", r -> r.raced(Race.IDLE)),
            new Row("no response, HTTP/1.1, sent as the previous response ended: committed before the connector shut down, it had no `Connection: close`, and Jetty closed after it", r -> r.raced(Race.COMMITTED_BEFORE)),
            new Row("no response, HTTP/1.1, after a response committed once the connector had shut down, yet without `Connection: close`", r -> r.raced(Race.BEGUN_AFTER)),
            new Row("no response, HTTP/1.1 request on a new connection", r -> r.count(Kind.NO_RESPONSE_H1_NEW)),
            new Row("no response, h2c stream (reset or failed)", r -> r.count(Kind.NO_RESPONSE_H2)),
            new Row("responses cut short, HTTP/1.1", r -> r.count(Kind.CUT_H1)),
            new Row("responses cut short, h2c", r -> r.count(Kind.CUT_H2)),
            new Row("other statuses", r -> r.count(Kind.OTHER_STATUS)),
            new Row("client errors (the bench's own)", r -> r.count(Kind.CLIENT_ERROR))));
        md.append("| **counted apart** | | | | |\n");
        rows(md, List.of(
            new Row("refused h2c streams (above the GOAWAY's last-stream-id, never processed)", r -> r.count(Kind.REFUSED_STREAM)),
            new Row("refused connects (listener closed)", r -> r.count(Kind.REFUSED_CONNECT))));
        md.append("| **what went well** | | | | |\n");
        rows(md, List.of(
            new Row("OK responses (200, whole body)", r -> r.count(Kind.OK_H1) + r.count(Kind.OK_H2)),
            new Row("OK responses to requests sent after the SIGTERM", r -> r.count(Kind.OK_AFTER_STOP)),
            new Row("responses with `Connection: close`", r -> r.count(Kind.CONNECTION_CLOSE)),
            new Row("HTTP/1.1 connections seen closed before reuse (nothing sent)", r -> r.count(Kind.CLOSED_BEFORE_REUSE)),
            new Row("GOAWAY frames received", r -> r.count(Kind.GOAWAY)),
            new Row("h2c streams not sent (session already closing)", r -> r.count(Kind.H2_NOT_SENT))));
        md.append("| **the stop** | | | | |\n");
        rows(md, List.of(
            new Row("stop, SIGTERM to process exit (ms)", Round::stopMillis),
            new Row("stops that reached the stop timeout", r -> r.stopMillis() >= DrainServer.STOP_TIMEOUT_MILLIS ? 1 : 0),
            new Row("drain's own duration, from its log line (ms)", r -> drainedFigure(r, Drained::millis)),
            new Row("drain: connections closed idle", r -> drainedFigure(r, Drained::closedIdle)),
            new Row("drain: connections that finished their request", r -> drainedFigure(r, Drained::finished)),
            new Row("drain: connections closed new", r -> drainedFigure(r, Drained::closedNew)),
            new Row("drain: connections forced at the deadline", r -> drainedFigure(r, Drained::forced))));
        long unended = results.stream().filter(r -> !r.clientsEnded()).count();
        long killed = results.stream().filter(r -> r.exitCode() < 0).count();
        if (unended > 0 || killed > 0)
            md.append(String.format(Locale.ROOT, "%n**Warning**: %d runs whose clients did not all end, %d servers that had to be killed.%n", unended, killed));
        md.append("\nEvery failure, with its timing: `drain-failures.txt`; the servers' logs: `drain-<variant>-<round>.log`.\n");
        return md.toString();
    }

    private void rows(StringBuilder md, List<Row> rows)
    {
        for (Row row : rows)
        {
            md.append("| ").append(row.label());
            for (String variant : VARIANTS)
            {
                long[] figures = results.stream().filter(r -> r.variant().equals(variant)).mapToLong(row.figure()).toArray();
                if (figures.length == 0 || Arrays.stream(figures).allMatch(f -> f < 0))
                {
                    md.append(" | - | -");
                    continue;
                }
                double median = Bench.median(Arrays.stream(figures).asDoubleStream().toArray());
                long min = Arrays.stream(figures).min().getAsLong();
                long max = Arrays.stream(figures).max().getAsLong();
                long total = Arrays.stream(figures).sum();
                String m = median == Math.rint(median) ? String.valueOf((long)median) : String.format(Locale.ROOT, "%.1f", median);
                md.append(" | ").append(m).append(" [").append(min).append("-").append(max).append("] | ").append(total);
            }
            md.append(" |\n");
        }
    }

}

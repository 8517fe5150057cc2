package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A {@link BenchServer} in a JVM of its own, and the line protocol to talk to it. */
final class ServerProcess implements AutoCloseable
{
    final String variant;
    final Process process;
    final int port;
    /** The port of its HTTP/1.1 over TLS connector. */
    final int tlsPort;
    private final BufferedReader out;
    private final PrintWriter in;

    /** What {@code stats} answers. */
    record Stats(long cpuNanos, long requests, long allocatedBytes, long gcCount, long gcMillis, long dropped, long delivered, long queued, long sinkCpuNanos)
    {
    }

    ServerProcess(String variant, Path dir, List<String> jvmArgs) throws IOException
    {
        this.variant = variant;
        List<String> command = new ArrayList<>(pinned("bench.serverCpus"));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        String sinkCpus = cpus("bench.sinkCpus");
        if (!sinkCpus.isEmpty())
            command.add("-Dbench.sinkCpus=" + sinkCpus);
        // {variant} in an argument names a file per server, e.g. -XX:StartFlightRecording=...,filename=/tmp/{variant}.jfr
        for (String arg : jvmArgs)
            command.add(arg.replace("{variant}", variant));
        // variant@TAG runs the variant on other code: the classes that -Dbench.code=TAG=DIR names
        // come first on the class path (an older commit's target/classes, for one).
        int at = variant.indexOf('@');
        command.add("-cp");
        command.add(at < 0 ? System.getProperty("java.class.path") : code(variant.substring(at + 1)) + File.pathSeparator + System.getProperty("java.class.path"));
        command.add(BenchServer.class.getName());
        command.add(at < 0 ? variant : variant.substring(0, at));
        command.add(dir.toString());
        ProcessBuilder builder = new ProcessBuilder(command);
        // Standard error is the log: jetty-slf4j-impl writes there, so the log sink goes to this file.
        // Appending (O_APPEND), so that the file can be truncated between runs while the server writes to it.
        builder.redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(variant + ".log").toFile()));
        process = builder.start();
        out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
        // Skip what the JVM itself may print first (-XX:StartFlightRecording, for one).
        String ready = out.readLine();
        while (ready != null && !ready.startsWith("READY "))
            ready = out.readLine();
        if (ready == null)
        {
            process.destroyForcibly();
            throw new IOException("Server " + variant + " did not start; see " + dir.resolve(variant + ".log"));
        }
        String[] ports = ready.substring(6).trim().split(" ");
        port = Integer.parseInt(ports[0]);
        tlsPort = Integer.parseInt(ports[1]);
    }

    /**
     * @param property a system property naming CPUs as taskset does ({@code 0}, {@code 0-1}, {@code 0,2})
     * @return its value, blank if it is not set (the pom passes every knob, blank by default)
     */
    static String cpus(String property)
    {
        return System.getProperty(property, "").trim();
    }

    /** The directory or jar that {@code -Dbench.code=TAG=DIR,...} gives for {@code tag}. */
    private static String code(String tag)
    {
        for (String entry : System.getProperty("bench.code", "").split(","))
        {
            int eq = entry.indexOf('=');
            if (eq > 0 && entry.substring(0, eq).trim().equals(tag))
                return entry.substring(eq + 1).trim();
        }
        throw new IllegalArgumentException("No code for @" + tag + ": give -Dbench.code=" + tag + "=DIR");
    }

    /**
     * @param property a system property naming CPUs as taskset does ({@code 0}, {@code 0-1}, {@code 0,2})
     * @return the {@code taskset} prefix that pins a command to them, or nothing if the property is not set
     */
    static List<String> pinned(String property)
    {
        String cpus = cpus(property);
        return cpus.isEmpty() ? List.of() : List.of("taskset", "-c", cpus);
    }

    /**
     * Empties the files the sinks append to: at 100k+ events per second they grow by tens of MB a
     * second. Both are opened for appending, so the writer goes on at the new end.
     *
     * @return how many bytes they held
     */
    long truncateSinkFiles(Path dir) throws IOException
    {
        long bytes = 0;
        for (Path file : List.of(dir.resolve(variant + ".log"), dir.resolve(variant + ".jsonl")))
        {
            // A small log holds only Jetty's own messages (and warnings worth keeping). A sink's
            // .jsonl is emptied after every run, so that its bytes are the run's own: the
            // connection log writes a line per connection, well under 1 MB in a run at times.
            boolean log = file.toString().endsWith(".log");
            if (java.nio.file.Files.exists(file) && (!log || java.nio.file.Files.size(file) > (1 << 20)))
            {
                try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE))
                {
                    bytes += channel.size();
                    channel.truncate(0);
                }
            }
        }
        return bytes;
    }

    long pid()
    {
        return process.pid();
    }

    private String[] ask(String command, String answer) throws IOException
    {
        in.println(command);
        String line = out.readLine();
        if (line == null || !line.startsWith(answer + " "))
            throw new IOException("Server " + variant + " answered '" + line + "' to " + command);
        return line.substring(answer.length() + 1).trim().split(" ");
    }

    Stats stats() throws IOException
    {
        String[] f = ask("stats", "STATS");
        return new Stats(Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]),
            Long.parseLong(f[4]), Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), Long.parseLong(f[8]));
    }

    /**
     * Waits (at most 10 s) until the queued listeners have taken every event, so that the work a
     * sink does after the load stopped is counted in the run that caused it.
     */
    Stats drainedStats() throws IOException, InterruptedException
    {
        Stats stats = stats();
        for (int i = 0; i < 200 && stats.queued() > 0; i++)
        {
            Thread.sleep(50);
            stats = stats();
        }
        return stats;
    }

    /** @return used heap after full GCs, open end points, tracked connections */
    long[] heap() throws IOException
    {
        String[] f = ask("heap", "HEAP");
        return new long[]{Long.parseLong(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2])};
    }

    @Override
    public void close() throws Exception
    {
        try
        {
            in.println("quit");
            if (!process.waitFor(20, TimeUnit.SECONDS))
                process.destroy();
        }
        finally
        {
            if (!process.waitFor(5, TimeUnit.SECONDS))
                process.destroyForcibly();
        }
    }
}

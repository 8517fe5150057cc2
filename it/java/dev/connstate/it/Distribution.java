package dev.connstate.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import dev.connstate.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real Jetty distribution the build unpacked (jetty-home), the module bundle it made, and
 * fresh {@code $JETTY_BASE}s in {@code target/it/} with Jetty running as a separate process.
 *
 * <p>Every wait is bounded; every process is killed by {@link Jetty#close()}.</p>
 */
public final class Distribution
{
    /** Generous bounds: CI machines are slow, but nothing may hang. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration EVENT_TIMEOUT = Duration.ofSeconds(15);

    public static final Path JETTY_HOME = Path.of(required("connstate.it.jettyHome"));
    /** The bundle, without its extension ({@code .zip}, {@code .tar.gz}). */
    public static final String BUNDLE = required("connstate.it.bundle");
    public static final String VERSION = required("connstate.it.version");
    public static final Path WORK = Path.of(required("connstate.it.work"));
    public static final Path TEST_CLASSES = Path.of(required("connstate.it.testClasses"));
    public static final Path EXAMPLES = Path.of(required("connstate.it.examples"));
    /** The build's local Maven repository, where start.jar finds what the modules' {@code maven://} files name. */
    public static final Path MAVEN_REPO = Path.of(required("connstate.it.mavenRepo"));

    private static final AtomicLong BASES = new AtomicLong();
    private static final Pattern CONNECTOR = Pattern.compile("Started oejs\\.ServerConnector@\\w+\\{([^}]*)\\}\\{([^}]*):(\\d+)\\}");

    private Distribution()
    {
    }

    private static String required(String property)
    {
        String value = System.getProperty(property);
        if (value == null || value.isBlank())
            throw new IllegalStateException("System property " + property + " is not set: run the integration tests with mvn verify");
        return value;
    }

    public static Path bundleZip()
    {
        return Path.of(BUNDLE + ".zip");
    }

    public static Path bundleTarGz()
    {
        return Path.of(BUNDLE + ".tar.gz");
    }

    /**
     * @param name a name for the directory
     * @return an empty directory under {@code target/it/} with the module bundle unpacked in it
     */
    public static Base newBase(String name) throws IOException
    {
        Path dir = WORK.resolve(name + "-" + ProcessHandle.current().pid() + "-" + BASES.incrementAndGet());
        Files.createDirectories(dir);
        unzip(bundleZip(), dir);
        return new Base(dir);
    }

    static void unzip(Path zip, Path into) throws IOException
    {
        try (ZipFile file = new ZipFile(zip.toFile()))
        {
            for (Enumeration<? extends ZipEntry> entries = file.entries(); entries.hasMoreElements(); )
            {
                ZipEntry entry = entries.nextElement();
                Path target = into.resolve(entry.getName()).normalize();
                if (!target.startsWith(into))
                    throw new IOException("Entry outside the base: " + entry.getName());
                if (entry.isDirectory())
                {
                    Files.createDirectories(target);
                    continue;
                }
                Files.createDirectories(target.getParent());
                try (InputStream in = file.getInputStream(entry))
                {
                    Files.copy(in, target);
                }
            }
        }
    }
    /** The JVM that runs start.jar: this one's, small and quick to start. */
    private static List<String> java()
    {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-XX:+UseSerialGC");
        command.add("-Xmx128m");
        command.add("-jar");
        command.add(JETTY_HOME.resolve("start.jar").toString());
        return command;
    }

    /** The result of a start.jar command that ran to its end. */
    public record Result(int exit, String output)
    {
    }

    /** The start.jar property that takes the modules' {@code maven://} files from the build's local repository (no download). */
    public static String mavenLocalRepo()
    {
        return "maven.local.repo=" + MAVEN_REPO;
    }

    /** The file name of {@code artifactId}'s jar on the test class path (its version, as the build resolved it). */
    public static String jarOnTheTestClassPath(String artifactId)
    {
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        for (String entry : classPath.split(java.io.File.pathSeparator))
        {
            String name = Path.of(entry).getFileName().toString();
            if (name.matches(java.util.regex.Pattern.quote(artifactId) + "-\\d[^-]*\\.jar"))
                return name;
        }
        throw new AssertionError(artifactId + " is not on the test class path: " + classPath);
    }

    /** A {@code $JETTY_BASE} directory. */
    public static final class Base
    {
        public final Path dir;
        private final List<String> jvmArgs = new ArrayList<>();
        private int runs;

        Base(Path dir)
        {
            this.dir = dir;
        }

        public Path resolve(String path)
        {
            return dir.resolve(path);
        }

        /** Options for the JVM of every later start.jar run on this base (a {@code -javaagent}, {@code -D}...). */
        public Base jvmArgs(String... args)
        {
            jvmArgs.addAll(List.of(args));
            return this;
        }

        private ProcessBuilder startJar(List<String> args, Path output)
        {
            List<String> command = java();
            command.addAll(command.indexOf("-jar"), jvmArgs);
            command.add("jetty.home=" + JETTY_HOME);
            command.add("jetty.base=" + dir);
            command.addAll(args);
            return new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        }

        /** Runs {@code java -jar start.jar ARGS} to its end (bounded) and returns its exit code and output. */
        public Result run(String... args) throws IOException, InterruptedException
        {
            Path output = dir.resolve("start-" + (++runs) + ".out");
            Process process = startJar(List.of(args), output).start();
            try
            {
                if (!process.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
                    fail("start.jar " + List.of(args) + " did not end within " + COMMAND_TIMEOUT.toSeconds() + " s:\n" + read(output));
                return new Result(process.exitValue(), read(output));
            }
            finally
            {
                kill(process);
            }
        }

        /** {@code --add-modules=MODULES}, which must succeed. */
        public Base addModules(String modules) throws IOException, InterruptedException
        {
            Result result = run("--add-modules=" + modules);
            assertEquals(0, result.exit(), "--add-modules=" + modules + " failed:\n" + result.output());
            return this;
        }

        /**
         * Starts Jetty on this base in a separate process and waits until it has started.
         *
         * @param properties more {@code name=value} arguments for start.jar
         * @return the running Jetty; close it (try-with-resources) so it is always killed
         */
        public Jetty start(String... properties) throws IOException
        {
            List<String> args = new ArrayList<>(List.of("jetty.http.host=127.0.0.1", "jetty.http.port=0", "jetty.ssl.host=127.0.0.1", "jetty.ssl.port=0"));
            args.addAll(List.of(properties));
            Path output = dir.resolve("jetty-" + (++runs) + ".out");
            Process process = startJar(args, output).start();
            Jetty jetty = new Jetty(this, process, output);
            try
            {
                Wait.until("Jetty to start (output in " + output + ")", START_TIMEOUT,
                    () -> jetty.output().contains("Started oejs.Server@") || !process.isAlive());
                if (!process.isAlive())
                    fail("Jetty exited with " + process.exitValue() + " instead of starting:\n" + jetty.output());
                jetty.parsePorts();
                return jetty;
            }
            catch (Throwable x)
            {
                jetty.close();
                throw x;
            }
        }

        /** The names of the files in {@code dir} (relative to the base), sorted. */
        public List<String> list(String dir) throws IOException
        {
            try (java.util.stream.Stream<Path> files = Files.list(this.dir.resolve(dir)))
            {
                return files.map(f -> f.getFileName().toString()).sorted().toList();
            }
        }

        /** The records of the jsonl sink at {@code file} (relative to the base). */
        public Path file(String file)
        {
            return dir.resolve(file);
        }
    }

    /** Jetty running in its own process. */
    public static final class Jetty implements AutoCloseable
    {
        public final Base base;
        private final Process process;
        private final Path output;
        /** Port by connector description, e.g. {@code "HTTP/1.1, (http/1.1, h2c)"} or {@code "SSL, (ssl, alpn, h2, http/1.1)"}. */
        private final Map<String, Integer> ports = new LinkedHashMap<>();

        Jetty(Base base, Process process, Path output)
        {
            this.base = base;
            this.process = process;
            this.output = output;
        }

        void parsePorts()
        {
            Matcher m = CONNECTOR.matcher(output());
            while (m.find())
                ports.put(m.group(1), Integer.parseInt(m.group(3)));
            if (ports.isEmpty())
                fail("No connector in Jetty's output:\n" + output());
        }

        /** The port of the clear-text connector. */
        public int httpPort()
        {
            return port(false);
        }

        /** The port of the TLS connector. */
        public int sslPort()
        {
            return port(true);
        }

        private int port(boolean ssl)
        {
            return ports.entrySet().stream()
                .filter(e -> e.getKey().startsWith("SSL") == ssl)
                .map(Map.Entry::getValue)
                .findFirst()
                .orElseThrow(() -> new AssertionError("No " + (ssl ? "TLS" : "clear-text") + " connector in " + ports));
        }

        /** What Jetty wrote to its standard output and error so far. */
        public String output()
        {
            return read(output);
        }

        public boolean isAlive()
        {
            return process.isAlive();
        }

        /**
         * Stops Jetty as an operator does: SIGTERM, which runs Jetty's shutdown hook (the server
         * stops gracefully). Waits (bounded) for the process to end.
         *
         * @return the exit code
         */
        public int stop() throws InterruptedException
        {
            process.destroy();
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly();
                fail("Jetty did not stop within " + STOP_TIMEOUT.toSeconds() + " s of SIGTERM:\n" + output());
            }
            return process.exitValue();
        }

        @Override
        public void close()
        {
            kill(process);
        }
    }

    static void kill(Process process)
    {
        if (!process.isAlive())
            return;
        process.destroyForcibly();
        try
        {
            process.waitFor(10, TimeUnit.SECONDS);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    static String read(Path file)
    {
        try
        {
            // Bytes, not readString(): a line being written may end in the middle of a character.
            return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }

    private static java.io.File nullDevice()
    {
        return new java.io.File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}

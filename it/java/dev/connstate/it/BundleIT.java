package dev.connstate.it;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.Distribution.Result;
import dev.connstate.it.JsonLines.Event;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static dev.connstate.it.JsonLines.assertSequence;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bundle unpacks at the root of a $JETTY_BASE and is then a module like Jetty's own:
 * listed, added with its documented ini, working whatever the order modules were added in; and
 * the jetty XML equivalent of the README works too.
 */
public class BundleIT
{
    private static final Set<String> ENTRIES = Set.of(
        "modules/connstate.mod",
        "etc/jetty-connstate.xml",
        "modules/connstate-prometheus.mod",
        "etc/jetty-connstate-prometheus.xml",
        "modules/connstate-otel.mod",
        "lib/connstate/jetty-connstate-" + Distribution.VERSION + ".jar");

    @Test
    public void bundlesHoldExactlyTheModuleTheXmlAndTheJar() throws IOException
    {
        Set<String> zip = new TreeSet<>();
        try (ZipFile file = new ZipFile(Distribution.bundleZip().toFile()))
        {
            for (Enumeration<? extends ZipEntry> entries = file.entries(); entries.hasMoreElements(); )
            {
                ZipEntry entry = entries.nextElement();
                if (!entry.isDirectory())
                    zip.add(entry.getName());
            }
        }
        assertEquals(new TreeSet<>(ENTRIES), zip, "zip entries");
        assertEquals(new TreeSet<>(ENTRIES), tarEntries(Distribution.bundleTarGz()), "tar.gz entries");

        Base base = Distribution.newBase("bundle-jar");
        try (JarFile jar = new JarFile(base.resolve("lib/connstate/jetty-connstate-" + Distribution.VERSION + ".jar").toFile()))
        {
            assertNotNull(jar.getEntry("dev/connstate/config/ConnStateModule.class"));
            assertNotNull(jar.getEntry("dev/connstate/ConnStateListener.class"));
        }
    }

    @Test
    public void listedAndAddedWithEveryPropertyDocumented() throws Exception
    {
        Base base = Distribution.newBase("bundle-add");
        Result list = base.run("--list-modules");
        assertEquals(0, list.exit(), list.output());
        assertTrue(list.output().matches("(?s).*\\n\\s*connstate\\s+- Reports the state of every client connection, as Go's http\\.Server\\.ConnState.*"),
            () -> "connstate not listed:\n" + list.output());

        base.addModules("connstate");
        String ini = Files.readString(base.resolve("start.d/connstate.ini"), StandardCharsets.UTF_8);
        for (String line : List.of(
            "--modules=connstate",
            "#jetty.connstate.sinks=log",
            "#jetty.connstate.log.logger=connstate",
            "#jetty.connstate.log.format=Client: {remote} - new state: {state} (id {id})",
            "#jetty.connstate.jsonl.file=logs/connstate.jsonl",
            "#jetty.connstate.listeners="))
        {
            assertTrue(ini.lines().anyMatch(line::equals), () -> "no line '" + line + "' in connstate.ini:\n" + ini);
        }
    }

    @Test
    public void addedBeforeTheConnectorModules() throws Exception
    {
        Base base = Distribution.newBase("bundle-order").addModules("connstate").addModules("http").addModules("http2c");
        Result config = base.run("--list-config");
        assertEquals(0, config.exit(), config.output());
        String out = config.output();
        int http = out.indexOf("etc/jetty-http.xml");
        int h2c = out.indexOf("etc/jetty-http2c.xml");
        int connstate = out.indexOf("etc/jetty-connstate.xml");
        assertTrue(http > 0 && h2c > 0 && connstate > http && connstate > h2c, () -> "XML order:\n" + out);

        try (Jetty jetty = base.start("jetty.connstate.sinks=jsonl"))
        {
            JsonLines jsonl = new JsonLines(base.file("logs/connstate.jsonl"));
            try (Socket ignored = Raw.connect(jetty.httpPort()))
            {
                // Connect, send nothing, close.
            }
            assertSequence(jsonl.nextOne(), jetty.httpPort(), false, "new", "closed");
            jetty.stop();
        }
    }

    @Test
    public void theJettyXmlEquivalentByHand() throws Exception
    {
        // The jar alone (no connstate module): the README's <New>/<Call> XML does the wiring.
        Base base = Distribution.newBase("bundle-xml").addModules("http");
        Files.copy(Distribution.EXAMPLES.resolve("jetty-connstate-by-hand.xml"), base.resolve("etc/jetty-connstate-by-hand.xml"));
        String jar = "lib/connstate/jetty-connstate-" + Distribution.VERSION + ".jar";
        // The example's file a day, in GMT: if midnight passes during the test, it proves nothing.
        LocalDate day = LocalDate.now(ZoneOffset.UTC);
        try (Jetty jetty = base.start("--lib=" + jar, "etc/jetty-connstate-by-hand.xml"))
        {
            JsonLines jsonl = new JsonLines(base.file("connstate-" + DateTimeFormatter.ofPattern("yyyy_MM_dd").format(day) + ".jsonl"));
            int clientPort;
            try (Socket socket = Raw.connect(jetty.httpPort()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                String answer = Raw.readToEnd(socket);
                assertTrue(answer.startsWith("HTTP/1.1 404"), answer);
            }
            List<Event> conn = jsonl.nextOne();
            assertSequence(conn, jetty.httpPort(), false, "new", "active", "closed");
            String line = "Client: 127.0.0.1:" + clientPort + " - new state: active (id " + conn.get(0).id() + ", http/1.1)";
            Wait.until("the log line '" + line + "'", Distribution.EVENT_TIMEOUT, () -> jetty.output().contains(line));
            jetty.stop();
        }
        catch (AssertionError x)
        {
            Assumptions.assumeTrue(day.equals(LocalDate.now(ZoneOffset.UTC)), "midnight (GMT) passed during the test");
            throw x;
        }
    }

    @Test
    public void theJsonlFileByTheDayFromTheModulesProperties() throws Exception
    {
        // Every rollover property through the module's XML, none at its default: the day's name
        // in its format and time zone (14 hours ahead of GMT), the files past one day deleted, an
        // existing file of the day set aside.
        Base base = Distribution.newBase("bundle-daily").addModules("http,connstate");
        ZoneId zone = ZoneId.of("Pacific/Kiritimati");
        LocalDate day = LocalDate.now(zone);
        DateTimeFormatter format = DateTimeFormatter.ofPattern("yyyyMMdd");
        String today = "connstate-" + format.format(day) + ".jsonl";
        String yesterday = "connstate-" + format.format(day.minusDays(1)) + ".jsonl";
        String before = "connstate-" + format.format(day.minusDays(2)) + ".jsonl";
        Files.createDirectories(base.resolve("logs"));
        for (String name : List.of(today, yesterday, before))
            Files.writeString(base.resolve("logs/" + name), "before\n");
        try (Jetty jetty = base.start("jetty.connstate.sinks=jsonl", "jetty.connstate.jsonl.file=logs/connstate-yyyy_mm_dd.jsonl",
            "jetty.connstate.jsonl.filenameDateFormat=yyyyMMdd", "jetty.connstate.jsonl.retainDays=1", "jetty.connstate.jsonl.append=false",
            "jetty.connstate.jsonl.rollover.timezone=Pacific/Kiritimati"))
        {
            JsonLines jsonl = new JsonLines(base.file("logs/" + today));
            try (Socket ignored = Raw.connect(jetty.httpPort()))
            {
                // Connect, send nothing, close.
            }
            assertSequence(jsonl.nextOne(), jetty.httpPort(), false, "new", "closed");
            jetty.stop();
            List<String> names;
            try (Stream<Path> files = Files.list(base.resolve("logs")))
            {
                names = files.map(f -> f.getFileName().toString()).sorted().toList();
            }
            assertEquals(3, names.size(), names.toString());
            assertEquals(List.of(yesterday, today), names.subList(0, 2), names.toString());
            assertTrue(names.get(2).matches(Pattern.quote(today) + "\\.[0-9]{9}"), names.toString());
            assertEquals("before\n", Files.readString(base.resolve("logs/" + names.get(2))));
        }
        catch (AssertionError x)
        {
            Assumptions.assumeTrue(day.equals(LocalDate.now(zone)), "midnight (Pacific/Kiritimati) passed during the test");
            throw x;
        }
    }

    /** The names of the regular files in a (ustar) .tar.gz. */
    static Set<String> tarEntries(Path tarGz) throws IOException
    {
        Set<String> names = new TreeSet<>();
        try (InputStream in = new GZIPInputStream(Files.newInputStream(tarGz)))
        {
            byte[] header = new byte[512];
            while (in.readNBytes(header, 0, 512) == 512)
            {
                if (allZero(header))
                    break;
                String name = text(header, 0, 100);
                String prefix = text(header, 345, 155);
                long size = Long.parseLong(text(header, 124, 12).trim(), 8);
                char type = (char)header[156];
                if (type == '0' || type == '\0')
                    names.add(prefix.isEmpty() ? name : prefix + "/" + name);
                long padded = (size + 511) / 512 * 512;
                in.skipNBytes(padded);
            }
        }
        return names;
    }

    private static boolean allZero(byte[] block)
    {
        for (byte b : block)
        {
            if (b != 0)
                return false;
        }
        return true;
    }

    private static String text(byte[] header, int offset, int length)
    {
        int end = offset;
        while (end < offset + length && header[end] != 0)
            end++;
        return new String(Arrays.copyOfRange(header, offset, end), StandardCharsets.US_ASCII);
    }
}

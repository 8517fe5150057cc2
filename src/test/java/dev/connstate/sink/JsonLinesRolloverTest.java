package dev.connstate.sink;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TimeZone;
import java.util.TreeSet;
import java.util.stream.Stream;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.stress.JsonLinesCheck;
import org.eclipse.jetty.util.RolloverFileOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code jsonl} sink's file a day, by a clock the test sets: the file of each day, the
 * rollover on the sink's thread at the first write after midnight (whole lines, none lost), the
 * retention, appending or setting aside, the time zone; its names held to Jetty's request log's
 * ({@link RolloverFileOutputStream}); and the cost: no allocation, one reading of the clock per
 * write, not per line.
 */
public class JsonLinesRolloverTest
{
    private static final String PATTERN = "connstate-yyyy_mm_dd.jsonl";
    private static final InetSocketAddress REMOTE = new InetSocketAddress("127.0.0.1", 54321);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("127.0.0.1", 8080);

    @TempDir
    Path dir;

    /** A clock that moves only when told, and counts how often it is read. */
    static final class TestClock extends Clock
    {
        private Instant now;
        private int reads;

        TestClock(String now)
        {
            this.now = Instant.parse(now);
        }

        void set(String instant)
        {
            now = Instant.parse(instant);
        }

        void advanceNanos(long nanos)
        {
            now = now.plusNanos(nanos);
        }

        int reads()
        {
            return reads;
        }

        @Override
        public Instant instant()
        {
            reads++;
            return now;
        }

        @Override
        public ZoneId getZone()
        {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone)
        {
            throw new UnsupportedOperationException();
        }
    }

    private static ConnStateEvent event(long id, Instant time)
    {
        return new ConnStateEvent(time, id, REMOTE, LOCAL, "http/1.1", false, ConnState.ACTIVE, ConnState.IDLE, 2_500_000, 1, 0, 7_000_000, -1, null, false, null);
    }

    private JsonLinesSink.Builder builder(TestClock clock)
    {
        return JsonLinesSink.builder(dir.resolve(PATTERN)).clock(clock);
    }

    /** The names in the directory, sorted. */
    private List<String> names() throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return List.copyOf(files.map(f -> f.getFileName().toString()).collect(TreeSet::new, TreeSet::add, TreeSet::addAll));
        }
    }

    /** The ids of a file's records, in order; fails unless every line is one whole record of the contract. */
    private List<Long> ids(String name) throws IOException
    {
        Path file = dir.resolve(name);
        String text = JsonLinesCheck.utf8(Files.readAllBytes(file), file.toString());
        assertTrue(text.endsWith("\n"), () -> file + " does not end with a whole line");
        List<Long> ids = new ArrayList<>();
        int number = 0;
        for (String line : text.substring(0, text.length() - 1).split("\n", -1))
            ids.add(((Number)JsonLinesCheck.object(line, file + ":" + ++number).get("id")).longValue());
        return ids;
    }

    private static List<Long> range(long from, long to)
    {
        List<Long> ids = new ArrayList<>();
        for (long id = from; id < to; id++)
            ids.add(id);
        return ids;
    }

    @Test
    public void eventsBeforeAndAfterMidnightLandInTwoFiles() throws IOException
    {
        // As a queue drives it: batches of 1 to 200 events (under WRITE_AT: one write each), a
        // flush after each; the clock runs some 0.2 ms per event across midnight.
        TestClock clock = new TestClock("2026-11-29T23:59:58Z");
        JsonLinesSink sink = builder(clock).build();
        assertEquals(List.of("connstate-2026_11_29.jsonl"), names());
        Random random = new Random(15);
        Map<String, List<Long>> expected = new LinkedHashMap<>();
        int events = 20_000;
        long id = 0;
        while (id < events)
        {
            int batch = (int)Math.min(events - id, 1 + random.nextInt(200));
            for (int i = 0; i < batch; i++, id++)
            {
                clock.advanceNanos(random.nextInt(400_000));
                sink.onStateChange(event(id, clock.instant()), ConnState.ACTIVE);
            }
            sink.flush();
            // The batch was written at the flush, to the file of the clock's day then.
            String day = DateTimeFormatter.ofPattern("yyyy_MM_dd").format(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
            expected.computeIfAbsent("connstate-" + day + ".jsonl", k -> new ArrayList<>()).addAll(range(id - batch, id));
        }
        sink.close();
        assertEquals(List.of("connstate-2026_11_29.jsonl", "connstate-2026_11_30.jsonl"), List.copyOf(expected.keySet()), "midnight was not crossed");
        assertEquals(List.copyOf(expected.keySet()), names());
        int total = 0;
        for (Map.Entry<String, List<Long>> file : expected.entrySet())
        {
            assertEquals(file.getValue(), ids(file.getKey()), file.getKey());
            total += file.getValue().size();
        }
        assertEquals(events, total);
        assertTrue(expected.get("connstate-2026_11_29.jsonl").size() > 1000 && expected.get("connstate-2026_11_30.jsonl").size() > 1000, expected.keySet() + " unbalanced");
    }

    @Test
    public void aBatchBufferedBeforeMidnightGoesWholeToTheNewDay() throws IOException
    {
        TestClock clock = new TestClock("2026-11-29T23:59:59.900Z");
        JsonLinesSink sink = builder(clock).build();
        sink.onStateChange(event(0, clock.instant()), ConnState.ACTIVE);
        sink.flush();
        // 100 lines buffered before midnight, then, past it, enough to fill the buffer: under
        // load the sink writes out by itself, and that write is the first of the new day.
        for (long id = 1; id <= 100; id++)
            sink.onStateChange(event(id, clock.instant()), ConnState.ACTIVE);
        clock.set("2026-11-30T00:00:00.001Z");
        int line = Json.record(event(0, clock.instant())).length() + 1;
        long last = 100 + 2L * JsonLinesFile.WRITE_AT / line;
        for (long id = 101; id <= last; id++)
            sink.onStateChange(event(id, clock.instant()), ConnState.ACTIVE);
        assertTrue(Files.size(dir.resolve("connstate-2026_11_30.jsonl")) > JsonLinesFile.WRITE_AT, "no write-out under load");
        sink.close();
        assertEquals(List.of("connstate-2026_11_29.jsonl", "connstate-2026_11_30.jsonl"), names());
        assertEquals(List.of(0L), ids("connstate-2026_11_29.jsonl"));
        assertEquals(range(1, last + 1), ids("connstate-2026_11_30.jsonl"));
    }

    @Test
    public void theOldestFileIsRemovedAfterRetainDays() throws IOException
    {
        // Files of the sink's pattern, one set aside (append=false), and others that are not its own.
        List<String> others = List.of("other-2026_11_01.jsonl", "connstate-2026_11_01.txt", "connstate-notes.jsonl", "connstate-2026_11_01.jsonl.old",
            "connstate-2026_13_01.jsonl", "connstate-2026_1_01.jsonl", "connstate-20261101.jsonl");
        for (String name : others)
            Files.writeString(dir.resolve(name), "x\n");
        for (String name : List.of("connstate-2026_11_25.jsonl", "connstate-2026_11_26.jsonl", "connstate-2026_11_26.jsonl.235959123",
            "connstate-2026_11_27.jsonl", "connstate-2026_11_28.jsonl"))
            Files.writeString(dir.resolve(name), "x\n");

        // Opening on the 29th with 2 days kept: today's file and those of the 27th and 28th.
        TestClock clock = new TestClock("2026-11-29T12:00:00Z");
        JsonLinesSink sink = builder(clock).retainDays(2).build();
        List<String> kept = new ArrayList<>(others);
        kept.addAll(List.of("connstate-2026_11_27.jsonl", "connstate-2026_11_28.jsonl", "connstate-2026_11_29.jsonl"));
        assertEquals(new TreeSet<>(kept).stream().toList(), names());

        // Each new day: its file comes, the oldest goes; last the first file the sink wrote itself.
        String[][] days = {{"2026-11-30", "2026_11_27"}, {"2026-12-01", "2026_11_28"}, {"2026-12-02", "2026_11_29"}};
        long id = 0;
        sink.onStateChange(event(id++, clock.instant()), ConnState.ACTIVE);
        sink.flush();
        for (String[] day : days)
        {
            clock.set(day[0] + "T00:00:00.001Z");
            sink.onStateChange(event(id++, clock.instant()), ConnState.ACTIVE);
            // Not before the write: the day's first write rolls over.
            assertTrue(names().contains("connstate-" + day[1] + ".jsonl"), day[0]);
            sink.flush();
            kept.remove("connstate-" + day[1] + ".jsonl");
            kept.add("connstate-" + day[0].replace('-', '_') + ".jsonl");
            assertEquals(new TreeSet<>(kept).stream().toList(), names(), day[0]);
        }
        sink.close();
        assertEquals(List.of(3L), ids("connstate-2026_12_02.jsonl"));
        for (String name : others)
            assertEquals("x\n", Files.readString(dir.resolve(name)), name);
    }

    @Test
    public void retainDaysZeroKeepsEveryFile() throws IOException
    {
        Files.writeString(dir.resolve("connstate-1999_12_31.jsonl"), "x\n");
        TestClock clock = new TestClock("2026-11-29T12:00:00Z");
        JsonLinesSink sink = builder(clock).retainDays(0).build();
        clock.set("2026-11-30T00:00:00Z");
        sink.onStateChange(event(1, clock.instant()), ConnState.ACTIVE);
        sink.close();
        assertEquals(List.of("connstate-1999_12_31.jsonl", "connstate-2026_11_29.jsonl", "connstate-2026_11_30.jsonl"), names());
    }

    @Test
    public void appendOrSetTheExistingFileAside() throws IOException
    {
        TestClock clock = new TestClock("2026-11-29T10:11:12.345Z");
        Path file = dir.resolve("connstate-2026_11_29.jsonl");
        Files.writeString(file, "before\n");
        // Appended to, by default.
        JsonLinesSink sink = builder(clock).build();
        sink.onStateChange(event(1, clock.instant()), ConnState.ACTIVE);
        sink.close();
        assertEquals("before\n" + Json.record(event(1, clock.instant())) + "\n", Files.readString(file));
        assertEquals(List.of("connstate-2026_11_29.jsonl"), names());

        // Set aside, renamed with the time of day (in the time zone), as Jetty's request log does.
        String written = Files.readString(file);
        sink = builder(clock).append(false).timeZone(ZoneId.of("Europe/Paris")).build();
        sink.onStateChange(event(2, clock.instant()), ConnState.ACTIVE);
        sink.close();
        assertEquals(List.of("connstate-2026_11_29.jsonl", "connstate-2026_11_29.jsonl.111112345"), names());
        assertEquals(written, Files.readString(dir.resolve("connstate-2026_11_29.jsonl.111112345")));
        assertEquals(List.of(2L), ids("connstate-2026_11_29.jsonl"));
    }

    @Test
    public void theTimeZoneNamesTheDayAndItsMidnight() throws IOException
    {
        // Paris is at +01:00 in November: its 30th begins at 23:00 UTC.
        TestClock clock = new TestClock("2026-11-29T22:59:59.999Z");
        JsonLinesSink sink = JsonLinesSink.builder(dir.resolve("CONNSTATE-YYYY_MM_DD.JSONL")).clock(clock)
            .timeZone(ZoneId.of("Europe/Paris")).filenameDateFormat("yyyyMMdd").build();
        sink.onStateChange(event(1, clock.instant()), ConnState.ACTIVE);
        sink.flush();
        clock.set("2026-11-29T23:00:00Z");
        sink.onStateChange(event(2, clock.instant()), ConnState.ACTIVE);
        sink.close();
        assertEquals(List.of("CONNSTATE-20261129.JSONL", "CONNSTATE-20261130.JSONL"), names());
        assertEquals(List.of(1L), ids("CONNSTATE-20261129.JSONL"));
        assertEquals(List.of(2L), ids("CONNSTATE-20261130.JSONL"));
    }

    @Test
    public void aFileWithoutTheDateIsOneFileAndNothingIsDeleted() throws IOException
    {
        Files.writeString(dir.resolve("connstate.jsonl.101010101"), "x\n");
        Files.writeString(dir.resolve("connstate-1999_12_31.jsonl"), "x\n");
        TestClock clock = new TestClock("2026-11-29T23:59:59Z");
        JsonLinesSink sink = JsonLinesSink.builder(dir.resolve("connstate.jsonl")).clock(clock).retainDays(1).build();
        for (long id = 0; id < 4; id++)
        {
            sink.onStateChange(event(id, clock.instant()), ConnState.ACTIVE);
            sink.flush();
            clock.set("2026-12-0" + (id + 1) + "T00:00:00Z");
        }
        sink.close();
        assertEquals(List.of("connstate-1999_12_31.jsonl", "connstate.jsonl", "connstate.jsonl.101010101"), names());
        assertEquals(range(0, 4), ids("connstate.jsonl"));
    }

    @Test
    public void aDayWhoseFileCannotBeOpenedLosesNoLine() throws IOException
    {
        TestClock clock = new TestClock("2026-11-29T23:59:59Z");
        JsonLinesSink sink = builder(clock).build();
        sink.onStateChange(event(0, clock.instant()), ConnState.ACTIVE);
        sink.flush();
        // A directory where the 30th's file must go: the rollover fails, the batch stays in the
        // buffer, the 29th's file stays open, and the next write tries again.
        Files.createDirectory(dir.resolve("connstate-2026_11_30.jsonl"));
        clock.set("2026-11-30T00:00:01Z");
        sink.onStateChange(event(1, clock.instant()), ConnState.ACTIVE);
        IOException x = assertThrows(IOException.class, sink::flush);
        assertEquals(dir.resolve("connstate-2026_11_30.jsonl").toAbsolutePath() + " is a directory", x.getMessage());
        Files.delete(dir.resolve("connstate-2026_11_30.jsonl"));
        sink.onStateChange(event(2, clock.instant()), ConnState.ACTIVE);
        sink.close();
        assertEquals(List.of(0L), ids("connstate-2026_11_29.jsonl"));
        assertEquals(List.of(1L, 2L), ids("connstate-2026_11_30.jsonl"));
    }

    @Test
    public void theClockIsReadOncePerWriteAndNothingIsAllocatedPerEvent() throws IOException
    {
        TestClock clock = new TestClock("2026-11-29T12:00:00Z");
        JsonLinesSink sink = builder(clock).build();
        ConnStateEvent event = event(7, clock.instant());
        int readsAtOpen = clock.reads();
        // 1,000 batches of 100 lines, one write each.
        for (int batch = 0; batch < 1000; batch++)
        {
            for (int i = 0; i < 100; i++)
                sink.onStateChange(event, ConnState.ACTIVE);
            sink.flush();
        }
        assertEquals(1000, clock.reads() - readsAtOpen);
        // Steady state, as a queue drives it: nothing allocated per event or per batch.
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        JsonLinesSink system = JsonLinesSink.builder(dir.resolve("system-yyyy_mm_dd.jsonl")).build();
        for (int round = 0; round < 3; round++)
            replay(system, event);
        long before = threads.getCurrentThreadAllocatedBytes();
        replay(system, event);
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        system.close();
        sink.close();
        assertTrue(allocated < 1024, allocated + " bytes allocated by 200,000 events in 2,000 batches");
    }

    private static void replay(JsonLinesSink sink, ConnStateEvent event) throws IOException
    {
        for (int batch = 0; batch < 2000; batch++)
        {
            for (int i = 0; i < 100; i++)
                sink.onStateChange(event, ConnState.ACTIVE);
            sink.flush();
        }
    }

    @Test
    public void namesAreThoseOfJettysRequestLog() throws IOException
    {
        // RolloverFileOutputStream names the file by the system clock: so does the sink here,
        // and the day may change in between (then try again).
        String[][] cases = {{PATTERN, "yyyy_MM_dd", "GMT"}, {"YYYY_MM_DD.jsonl", "yyyyMMdd", "Europe/Paris"}, {"a-yyyy_mm_dd-b.jsonl", "yyyy-MM-dd", "America/Los_Angeles"}};
        int n = 0;
        for (String[] c : cases)
        {
            ZoneId zone = ZoneId.of(c[2]);
            for (int attempt = 1; ; attempt++)
            {
                LocalDate day = LocalDate.now(zone);
                Path jetty = Files.createDirectory(dir.resolve("jetty" + n));
                Path ours = Files.createDirectory(dir.resolve("ours" + n++));
                RolloverFileOutputStream rollover = new RolloverFileOutputStream(jetty.resolve(c[0]).toString(), true, 0, TimeZone.getTimeZone(zone), c[1], null);
                String jettys = Path.of(rollover.getDatedFilename()).getFileName().toString();
                rollover.close();
                JsonLinesSink.builder(ours.resolve(c[0])).filenameDateFormat(c[1]).timeZone(zone).build().close();
                List<String> names;
                try (Stream<Path> files = Files.list(ours))
                {
                    names = files.map(f -> f.getFileName().toString()).toList();
                }
                if (!day.equals(LocalDate.now(zone)) && attempt < 3)
                    continue;
                assertEquals(List.of(jettys), names, String.join(" ", c));

                // An existing file that is not appended to: both set it aside as NAME.HHmmssSSS.
                rollover = new RolloverFileOutputStream(jetty.resolve(c[0]).toString(), false, 0, TimeZone.getTimeZone(zone), c[1], null);
                rollover.close();
                JsonLinesSink.builder(ours.resolve(c[0])).filenameDateFormat(c[1]).timeZone(zone).append(false).build().close();
                for (Path d : new Path[]{jetty, ours})
                {
                    try (Stream<Path> files = Files.list(d))
                    {
                        List<String> set = files.map(f -> f.getFileName().toString()).sorted().toList();
                        assertEquals(2, set.size(), set.toString());
                        assertEquals(jettys, set.get(0));
                        assertTrue(set.get(1).matches(java.util.regex.Pattern.quote(jettys) + "\\.[0-9]{9}"), set.toString());
                    }
                }
                break;
            }
        }
    }

    @Test
    public void badOptionsAreRefusedByName() throws IOException
    {
        TestClock clock = new TestClock("2026-11-29T12:00:00Z");
        Map<String, JsonLinesSink.Builder> refused = new LinkedHashMap<>();
        refused.put("retainDays=-1: must be 0 (keep every file) or more days", builder(clock).retainDays(-1));
        refused.put("filenameDateFormat=yyyy_qq_dd: not a date format (SimpleDateFormat): Illegal pattern character 'q'", builder(clock).filenameDateFormat("yyyy_qq_dd"));
        refused.put("filenameDateFormat=yyyy_MM: must name the year, month and day (e.g. yyyy_MM_dd): the age of an old file is read from its name",
            builder(clock).filenameDateFormat("yyyy_MM"));
        refused.put("filenameDateFormat=EEE: must name the year, month and day (e.g. yyyy_MM_dd): the age of an old file is read from its name",
            builder(clock).filenameDateFormat("EEE"));
        refused.put("filenameDateFormat=: must name the year, month and day (e.g. yyyy_MM_dd): the age of an old file is read from its name",
            builder(clock).filenameDateFormat(""));
        refused.put("filenameDateFormat=yyyy/MM/dd: must not put a '/' in the file name", builder(clock).filenameDateFormat("yyyy/MM/dd"));
        for (Map.Entry<String, JsonLinesSink.Builder> bad : refused.entrySet())
            assertEquals(bad.getKey(), assertThrows(IllegalArgumentException.class, bad.getValue()::build).getMessage());
        assertEquals(List.of(), names(), "a refused sink opened a file");
        // What is fine: a day in the year, the hour too, a two-digit year.
        for (String format : new String[]{"yyyy_DDD", "yyyy_MM_dd_HH", "yyMMdd", "dd.MM.yyyy"})
            builder(clock).filenameDateFormat(format).build().close();
        assertEquals(List.of("connstate-2026_11_29_12.jsonl", "connstate-2026_333.jsonl", "connstate-261129.jsonl", "connstate-29.11.2026.jsonl"), names());
    }
}

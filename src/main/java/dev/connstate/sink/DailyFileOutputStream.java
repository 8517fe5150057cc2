package dev.connstate.sink;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParsePosition;
import java.text.SimpleDateFormat;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.Date;
import java.util.TimeZone;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The file a sink appends to, a new one each day when its name holds {@value #DATE_TOKEN}:
 * opens the day's file, goes on to the next day's at the first write after midnight, and
 * deletes the files of the days past the retention.
 *
 * <p>Its files are those of Jetty's request log: {@value #DATE_TOKEN} in the file's name (any
 * case) is replaced by the date in a {@link SimpleDateFormat} of the time zone, and an existing
 * file that is not appended to is first renamed {@code NAME.HHmmssSSS}, with the time. That is
 * the one Jetty behaviour relied on, and it is public: {@code JsonLinesRolloverTest} holds these
 * names to those of Jetty's own {@code RolloverFileOutputStream}. That class is not used itself:
 * it swaps files at the system clock's midnight on a scheduler thread of its own, not on the
 * sink's thread and not by a clock a test controls; its naming and its deletion of old files
 * ({@code setFile}, {@code removeOldFiles}) are package-private; and it deletes old files only at
 * those swaps, by their modification time.</p>
 *
 * <p>This one rolls over inside {@link #write(byte[], int, int)}, on the writer's thread, by
 * the {@link Clock} it is given: a write is never split across two files, and a day's file that
 * cannot be opened changes nothing (the previous one stays open, the write fails with nothing
 * written, the next one tries again). It deletes old files by the date in their name, when it opens and at each
 * rollover, and only files it would have named: today's and those of the last
 * {@code retainDays} days are kept, as with the request log.</p>
 *
 * <p>Not thread-safe: one thread writes. The date is checked once per write, not per line: the
 * sink writes whole batches of whole lines in one write.</p>
 */
final class DailyFileOutputStream extends OutputStream
{
    /** The part of a file name replaced by the date, as in Jetty's request log. */
    static final String DATE_TOKEN = "yyyy_mm_dd";
    /** How an existing file is renamed when not appended to, as Jetty's request log does. */
    private static final String BACKUP_FORMAT = "HHmmssSSS";
    /** Two days whose year, month and day differ, to tell whether a date format names them. */
    private static final LocalDate[] SAMPLE_DAYS = {LocalDate.of(2001, 2, 3), LocalDate.of(2012, 11, 29)};
    private static final Logger LOG = LoggerFactory.getLogger(DailyFileOutputStream.class);

    private final Path directory;
    /** The file's name before {@value #DATE_TOKEN}, or its whole name if it has none. */
    private final String prefix;
    /** The file's name after {@value #DATE_TOKEN}; {@code null} if it has none: one file, never rolled over. */
    private final String suffix;
    private final SimpleDateFormat dateFormat;
    private final int retainDays;
    private final boolean append;
    private final ZoneId zone;
    private final Clock clock;
    private Path file;
    private OutputStream out;
    /** When the next day begins, in epoch milliseconds; {@link Long#MAX_VALUE} if never. */
    private long nextDayMillis = Long.MAX_VALUE;

    /**
     * Opens today's file (by {@code clock} in {@code zone}) and deletes the files past the retention.
     *
     * @param pattern the file; {@value #DATE_TOKEN} in its name stands for the date
     * @param dateFormat the date's {@link SimpleDateFormat}; see {@link #dateFormatProblem(String)}
     * @param retainDays how many days of files to keep besides today's; 0 keeps them all
     * @param append whether to append to an existing file, or rename it first
     * @param zone the time zone of the date and of midnight
     * @param clock the time
     * @throws IOException if the file cannot be opened
     */
    DailyFileOutputStream(Path pattern, String dateFormat, int retainDays, boolean append, ZoneId zone, Clock clock) throws IOException
    {
        Path parent = pattern.toAbsolutePath().getParent();
        this.directory = parent;
        String name = pattern.getFileName().toString();
        int token = indexOfToken(name);
        this.prefix = token < 0 ? name : name.substring(0, token);
        this.suffix = token < 0 ? null : name.substring(token + DATE_TOKEN.length());
        this.dateFormat = format(dateFormat, zone);
        this.retainDays = retainDays;
        this.append = append;
        this.zone = zone;
        this.clock = clock;
        Instant now = clock.instant();
        this.out = open(now);
        deleteExpired(LocalDate.ofInstant(now, zone));
    }

    /** Where {@value #DATE_TOKEN} is in a file name, in any case, as Jetty's request log finds it; -1 if nowhere. */
    private static int indexOfToken(String name)
    {
        for (int i = 0; i + DATE_TOKEN.length() <= name.length(); i++)
        {
            if (name.regionMatches(true, i, DATE_TOKEN, 0, DATE_TOKEN.length()))
                return i;
        }
        return -1;
    }

    /**
     * @param dateFormat a date format for file names
     * @return why it cannot name a rolled file (it is not a {@link SimpleDateFormat}, or does not
     * name the year, month and day, from which the age of a file is read, or would put a
     * directory separator in the name), or {@code null} if it can
     */
    static String dateFormatProblem(String dateFormat)
    {
        SimpleDateFormat format;
        try
        {
            format = format(dateFormat, ZoneId.of("GMT"));
        }
        catch (IllegalArgumentException x)
        {
            return "not a date format (SimpleDateFormat): " + x.getMessage();
        }
        for (LocalDate day : SAMPLE_DAYS)
        {
            String text = format.format(Date.from(day.atStartOfDay(ZoneId.of("GMT")).toInstant()));
            for (char separator : new char[]{'/', File.separatorChar})
            {
                if (text.indexOf(separator) >= 0)
                    return "must not put a '" + separator + "' in the file name";
            }
            ParsePosition position = new ParsePosition(0);
            Date parsed = format.parse(text, position);
            if (parsed == null || position.getIndex() != text.length() || !day.equals(LocalDate.ofInstant(parsed.toInstant(), ZoneId.of("GMT"))))
                return "must name the year, month and day (e.g. yyyy_MM_dd): the age of an old file is read from its name";
        }
        return null;
    }

    private static SimpleDateFormat format(String dateFormat, ZoneId zone)
    {
        // The default locale, as Jetty's request log: the same names for the same settings.
        SimpleDateFormat format = new SimpleDateFormat(dateFormat);
        format.setTimeZone(TimeZone.getTimeZone(zone));
        format.setLenient(false);
        return format;
    }

    /**
     * @return the file written to now
     */
    Path file()
    {
        return file;
    }

    /** Opens the file of {@code now}'s day and sets when the next day begins. */
    private OutputStream open(Instant now) throws IOException
    {
        Path path = directory.resolve(suffix == null ? prefix : prefix + dateFormat.format(Date.from(now)) + suffix);
        if (Files.isDirectory(path))
            throw new IOException(path + " is a directory");
        // Only a regular file is set aside: never /dev/null or a pipe.
        if (!append && Files.isRegularFile(path))
        {
            SimpleDateFormat backup = format(BACKUP_FORMAT, zone);
            Files.move(path, path.resolveSibling(path.getFileName() + "." + backup.format(Date.from(now))));
        }
        OutputStream opened = new FileOutputStream(path.toFile(), append);
        file = path;
        if (suffix != null)
            nextDayMillis = LocalDate.ofInstant(now, zone).plusDays(1).atStartOfDay(zone).toInstant().toEpochMilli();
        return opened;
    }

    /**
     * Goes on to the day's file if a day began since the last write, then writes: all of
     * {@code bytes} go to one file.
     *
     * @throws IOException if the day's file cannot be opened (the previous one stays open and
     * nothing is written: the next write tries again) or written
     */
    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException
    {
        rollOverIfDue();
        out.write(bytes, offset, length);
    }

    @Override
    public void write(int b) throws IOException
    {
        rollOverIfDue();
        out.write(b);
    }

    private void rollOverIfDue() throws IOException
    {
        if (clock.millis() < nextDayMillis)
            return;
        Instant now = clock.instant();
        OutputStream previous = out;
        Path previousFile = file;
        out = open(now);
        try
        {
            previous.close();
        }
        catch (IOException x)
        {
            // Everything was written to it: FileOutputStream keeps nothing back.
            LOG.warn("Could not close {}: {}", previousFile, x.toString());
        }
        deleteExpired(LocalDate.ofInstant(now, zone));
    }

    /** Deletes the files (and the set-aside ones) of the days before the last {@code retainDays} before {@code today}. */
    private void deleteExpired(LocalDate today)
    {
        if (suffix == null || retainDays == 0)
            return;
        LocalDate oldest = today.minusDays(retainDays);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory))
        {
            for (Path old : files)
            {
                LocalDate day = dayOf(old.getFileName().toString());
                if (day == null || !day.isBefore(oldest) || old.equals(file))
                    continue;
                try
                {
                    Files.deleteIfExists(old);
                }
                catch (IOException x)
                {
                    LOG.warn("Could not delete {}, older than {} days: {}", old, retainDays, x.toString());
                }
            }
        }
        catch (IOException x)
        {
            LOG.warn("Could not list {} for files older than {} days: {}", directory, retainDays, x.toString());
        }
    }

    /**
     * @return the day of a file this stream would have named ({@code PREFIX DATE SUFFIX}, or that
     * followed by {@code .DIGITS} when set aside), {@code null} for any other file
     */
    private LocalDate dayOf(String name)
    {
        if (!name.startsWith(prefix))
            return null;
        ParsePosition position = new ParsePosition(prefix.length());
        Date date = dateFormat.parse(name, position);
        if (date == null)
            return null;
        int end = position.getIndex();
        // The exact text this format makes for that date: not a lenient reading of something else.
        if (!dateFormat.format(date).equals(name.substring(prefix.length(), end)) || !name.startsWith(suffix, end))
            return null;
        String rest = name.substring(end + suffix.length());
        if (!rest.isEmpty() && !(rest.length() > 1 && rest.charAt(0) == '.' && rest.substring(1).chars().allMatch(c -> c >= '0' && c <= '9')))
            return null;
        return LocalDate.ofInstant(date.toInstant(), zone);
    }

    @Override
    public void flush() throws IOException
    {
        out.flush();
    }

    @Override
    public void close() throws IOException
    {
        out.close();
    }
}

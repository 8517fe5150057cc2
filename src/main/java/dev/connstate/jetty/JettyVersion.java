package dev.connstate.jetty;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.jetty.util.Jetty;

/**
 * Knows which Jetty release runs: its version, parsed once, compared with the releases whose
 * behaviour this library depends on, and checked against the oldest release it supports.
 *
 * <p>Jetty writes its version as {@code 12.1.5} for a release, {@code 12.1.6-SNAPSHOT} for a
 * build on the way to 12.1.6, {@code 12.1.0.beta3} or {@code 12.1.0.alpha1} for a pre-release,
 * and {@code 12.1.z-SNAPSHOT} when its jar lost its manifest and its build properties. A
 * pre-release of a version comes before that version. A version that cannot be read (no
 * number where the patch should be, or no version at all) is taken for the newest: it is never
 * refused, and it gets the newest behaviour, since nothing proves it older.</p>
 */
final class JettyVersion
{
    /** Every number of a version that cannot be read: it compares as the newest. */
    private static final int UNKNOWN = Integer.MAX_VALUE;
    private static final Pattern FORMAT = Pattern.compile("(\\d+)\\.(\\d+)\\.(\\d+)(.*)");

    /**
     * The oldest release this library supports: the oldest on which its whole test suite passes.
     * On 12.1.3 Jetty refuses a servlet's upgrade unless the servlet set the 101 itself, and
     * closes the connection after a response shorter than its {@code Content-Length}.
     */
    static final JettyVersion OLDEST_SUPPORTED = new JettyVersion(12, 1, 4, "");

    /** The running Jetty's version, read from {@link Jetty#VERSION}. */
    static final JettyVersion RUNNING = parse(Jetty.VERSION);

    private final int major;
    private final int minor;
    private final int patch;
    /** What follows the patch number ({@code -SNAPSHOT}, {@code .beta3}): empty for a release. */
    private final String qualifier;
    /** The text it was read from, for messages. */
    private final String text;

    private JettyVersion(int major, int minor, int patch, String qualifier)
    {
        this(major, minor, patch, qualifier, major + "." + minor + "." + patch + qualifier);
    }

    private JettyVersion(int major, int minor, int patch, String qualifier, String text)
    {
        this.major = major;
        this.minor = minor;
        this.patch = patch;
        this.qualifier = qualifier;
        this.text = text;
    }

    /**
     * Refuses a Jetty this library does not support: older than {@link #OLDEST_SUPPORTED}, or of
     * another line than 12.1, where it was never tested and the Jetty internals it reads may
     * differ (12.0, 13). A version that cannot be read passes.
     *
     * @throws IllegalStateException with one line that names the oldest supported version and
     * the one found
     */
    static void check()
    {
        check(Jetty.VERSION);
    }

    /** {@link #check()} for a version given as Jetty writes it. */
    static void check(String version)
    {
        if (!parse(version).isSupported())
            throw new IllegalStateException("jetty-connstate needs Jetty " + OLDEST_SUPPORTED + " or a later 12.1.x, found " + version);
    }

    /**
     * @param version a version as Jetty writes it, {@code null} if unknown
     * @return the version, or one that reads as the newest if {@code version} has no
     * {@code major.minor.patch} at its start
     */
    static JettyVersion parse(String version)
    {
        Matcher matcher = version == null ? null : FORMAT.matcher(version.trim());
        if (matcher != null && matcher.matches())
        {
            try
            {
                return new JettyVersion(Integer.parseInt(matcher.group(1)), Integer.parseInt(matcher.group(2)),
                    Integer.parseInt(matcher.group(3)), matcher.group(4), version.trim());
            }
            catch (NumberFormatException tooLong)
            {
                // Not a version Jetty writes: unknown.
            }
        }
        return new JettyVersion(UNKNOWN, UNKNOWN, UNKNOWN, "", String.valueOf(version));
    }

    private boolean isKnown()
    {
        return major != UNKNOWN;
    }

    /** Whether this version is of the 12.1 line and not older than {@link #OLDEST_SUPPORTED}. */
    boolean isSupported()
    {
        return !isKnown() || (major == OLDEST_SUPPORTED.major && minor == OLDEST_SUPPORTED.minor && isAtLeast(OLDEST_SUPPORTED));
    }

    /**
     * @param release a release (no qualifier)
     * @return whether this version comes at or after {@code release}: a pre-release of
     * {@code release} comes before it, one of a later version after it
     */
    boolean isAtLeast(JettyVersion release)
    {
        if (major != release.major)
            return major > release.major;
        if (minor != release.minor)
            return minor > release.minor;
        if (patch != release.patch)
            return patch > release.patch;
        return qualifier.isEmpty();
    }

    /** @return whether this version comes at or after the release {@code major.minor.patch} */
    boolean isAtLeast(int major, int minor, int patch)
    {
        return isAtLeast(new JettyVersion(major, minor, patch, ""));
    }

    @Override
    public String toString()
    {
        return text;
    }
}

package dev.grpckeepalive.companion;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The names Spring Boot's channels are tracked under: the key in the endpoint's
 * {@code channels}, the health component and the {@code channel} tag of every meter.
 *
 * <p>{@code GrpcChannelFactory.createChannel} takes a channel name or a target, and Spring
 * Boot hands its customizers that same string. A configured channel (a key of
 * {@code spring.grpc.client.channel}) keeps its name. Anything else is a target, which an
 * application may build from data (one per host, per tenant, ...), so its name is bounded:
 * <ul>
 * <li>derived from the target: Spring Boot's {@code static:} and {@code tcp:} schemes and
 * slashes after a scheme are dropped, every run of characters other than letters, digits,
 * {@code . _ : -} becomes {@code _}, and a name longer than {@value #MAX_LENGTH} characters
 * is cut and ends in a hash of the whole target, so {@code static://localhost:9090} and
 * {@code localhost:9090} are {@code localhost:9090}, {@code dns:///orders:443} is
 * {@code dns:orders:443};</li>
 * <li>at most {@value #MAX_TARGET_NAMES} distinct names come from targets; the channels of
 * any further target share the name {@value #OVERFLOW};</li>
 * <li>a name from a target never equals a configured channel's name or {@value #OVERFLOW}:
 * such a name gets the prefix {@code target:}.</li>
 * </ul>
 * No name ever contains a {@code /}, which would break the health component's path.
 */
final class ChannelNames {

	/** The most distinct names that targets get; further targets share {@link #OVERFLOW}. */
	static final int MAX_TARGET_NAMES = 32;

	/** The name shared by the channels of every target beyond the first {@link #MAX_TARGET_NAMES}. */
	static final String OVERFLOW = "other";

	/** The longest name; longer ones are cut and end in a hash. */
	static final int MAX_LENGTH = 64;

	private static final Pattern SCHEME_SLASHES = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):/+");

	private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9._:-]+");

	private final Set<String> configured;

	private final Set<String> fromTargets = new HashSet<>();

	/**
	 * @param configured the names of the configured channels, as {@link #configured(String)}
	 * gives them
	 */
	ChannelNames(Set<String> configured) {
		this.configured = Set.copyOf(configured);
	}

	/**
	 * The name of the configured channel {@code key}: the key itself unless it holds
	 * characters a name must not (a key written in brackets may).
	 */
	static String configured(String key) {
		return safe(key, key);
	}

	/** The name of a channel Spring Boot created for {@code target}. */
	synchronized String forTarget(String target) {
		String derived = fromTarget(target);
		String name = apart(OVERFLOW.equals(derived) ? "target:" + derived : derived, target);
		if (this.fromTargets.contains(name)) {
			return name;
		}
		if (this.fromTargets.size() < MAX_TARGET_NAMES) {
			this.fromTargets.add(name);
			return name;
		}
		return overflow();
	}

	/** The name shared by the channels of every target beyond the first {@link #MAX_TARGET_NAMES}. */
	String overflow() {
		return apart(OVERFLOW, OVERFLOW);
	}

	/** The name derived from {@code target} alone, before the cap and before clashes are avoided. */
	static String fromTarget(String target) {
		String name = target;
		String lower = name.toLowerCase(Locale.ROOT);
		// Spring Boot's virtual targets drop these schemes and dial the address after them
		if (lower.startsWith("static:") || lower.startsWith("tcp:")) {
			name = name.substring(name.indexOf(':') + 1).replaceFirst("^/+", "");
		}
		name = SCHEME_SLASHES.matcher(name).replaceFirst("$1:");
		return safe(name, target);
	}

	private static String safe(String text, String source) {
		String name = UNSAFE.matcher(text).replaceAll("_").replaceAll("^_+|_+$", "");
		return cut(name.isEmpty() ? "_" : name, source);
	}

	/** Cuts a long name, ending it in a hash of what it was made from so that it stays apart from others. */
	private static String cut(String name, String source) {
		if (name.length() <= MAX_LENGTH) {
			return name;
		}
		String hash = String.format("%08x", source.hashCode());
		return name.substring(0, MAX_LENGTH - hash.length() - 1) + "-" + hash;
	}

	/** Keeps a name from a target apart from the configured names. */
	private String apart(String name, String source) {
		String apart = name;
		while (this.configured.contains(apart)) {
			apart = cut("target:" + apart, source + "#" + apart);
		}
		return apart;
	}

}

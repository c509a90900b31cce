package dev.grpckeepalive.advisor;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The fix a finding recommends: the exact property, its current value and the suggested
 * one; other properties to change with it; and, where the fix can be on the peer, what to
 * change there instead.
 *
 * <p>A suggested value is one the evidence shows will work, unless {@code lowerBound} says
 * otherwise: then the evidence only shows that the value must be more than
 * {@code suggested}, and {@code safeAlternative} is a value that works against gRPC's
 * defaults. The advisor never suggests a value grpc-java would clamp, nor a permit-time under
 * {@link ServerPingWatch#PERMIT_TIME_FLOOR}.
 *
 * @param property the full property name, such as {@code grpc.keepalive.server.permit-time}
 * @param current its value in force now, as text
 * @param suggested the value to set; with {@code lowerBound}, the value the setting must exceed
 * @param alsoSet further changes that belong to the same fix
 * @param instead the alternative fix on the peer (or on the other side), or {@code null}
 * @param text the fix in one sentence, as the WARN log line names it
 * @param lowerBound whether {@code suggested} is only a bound the evidence gives (the value
 * must be more than it) rather than a value shown to work
 * @param safeAlternative a value that works whatever the peer, such as {@code 5m} (gRPC
 * servers' default minimum PING interval), or {@code null}
 */
public record Recommendation(String property, @Nullable String current, String suggested, List<Change> alsoSet,
		@Nullable String instead, String text, boolean lowerBound, @Nullable String safeAlternative) {

	public Recommendation {
		alsoSet = List.copyOf(alsoSet);
	}

	/** A recommendation whose suggested value the evidence shows will work. */
	public Recommendation(String property, @Nullable String current, String suggested, List<Change> alsoSet,
			@Nullable String instead, String text) {
		this(property, current, suggested, alsoSet, instead, text, false, null);
	}

	/**
	 * One property change.
	 * @param property the full property name
	 * @param current its value in force now
	 * @param suggested the value to set
	 */
	public record Change(String property, @Nullable String current, String suggested) {
	}

}

package dev.grpckeepalive.advisor;

import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * The fix a finding recommends: the exact property, its current value and the suggested
 * one; other properties to change with it; and, where the fix can be on the peer, what to
 * change there instead.
 *
 * @param property the full property name, such as {@code grpc.keepalive.server.permit-time}
 * @param current its value in force now, as text
 * @param suggested the value to set
 * @param alsoSet further changes that belong to the same fix
 * @param instead the alternative fix on the peer (or on the other side), or {@code null}
 * @param text the fix in one sentence, as the WARN log line names it
 */
public record Recommendation(String property, @Nullable String current, String suggested, List<Change> alsoSet,
		@Nullable String instead, String text) {

	public Recommendation {
		alsoSet = List.copyOf(alsoSet);
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

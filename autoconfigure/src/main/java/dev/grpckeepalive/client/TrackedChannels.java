package dev.grpckeepalive.client;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Channels whose connections this starter tracks: its own {@link GrpcChannels}, or
 * Spring Boot's channels in companion mode. The endpoint, health and meters read these.
 */
public interface TrackedChannels {

	/** The channels by name, as far as they exist now. */
	Map<String, TrackedChannel> tracked();

	/**
	 * Calls {@code listener} for every channel that starts being tracked from now on; for
	 * channels created on demand after startup.
	 */
	default void onNewChannel(Consumer<TrackedChannel> listener) {
	}

	/** The channels of all sources by name, as far as they exist now, in source order. */
	static Map<String, TrackedChannel> all(List<TrackedChannels> sources) {
		Map<String, TrackedChannel> all = new LinkedHashMap<>();
		sources.forEach((source) -> all.putAll(source.tracked()));
		return all;
	}

}

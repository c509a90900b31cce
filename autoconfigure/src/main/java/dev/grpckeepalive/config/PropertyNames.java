package dev.grpckeepalive.config;

import java.util.HashMap;
import java.util.Map;

/**
 * The properties the values of a {@link GrpcKeepAliveProperties} were read from, so that
 * clamp warnings and failure reports name what the user wrote. By default every value is
 * this starter's own {@code grpc.keepalive.*} property. Companion mode also fills a
 * {@link GrpcKeepAliveProperties} from Spring Boot's {@code spring.grpc.*} properties, and
 * maps each value taken from there to the Spring Boot property it came from.
 *
 * <p>Instances are immutable; {@link #with} returns a copy.
 */
public final class PropertyNames {

	private static final PropertyNames OURS = new PropertyNames(Map.of());

	private final Map<String, Source> sources;

	private PropertyNames(Map<String, Source> sources) {
		this.sources = sources;
	}

	/** Every value was read from this starter's own property. */
	public static PropertyNames ours() {
		return OURS;
	}

	/**
	 * A copy in which the value of {@code ours} was read from {@code source}.
	 * @param ours this starter's property that holds the value, such as
	 * {@code grpc.keepalive.server.timeout} or {@code grpc.keepalive.client.channels.<name>.time}
	 * @param source the property the value was read from, as the user would write it
	 * @param whenRemoved what applies once the user removes {@code source}, for the fix in a
	 * failure report, such as {@code Spring Boot's default of 20s}
	 * @return the copy
	 */
	public PropertyNames with(String ours, String source, String whenRemoved) {
		Map<String, Source> sources = new HashMap<>(this.sources);
		sources.put(ours, new Source(source, whenRemoved));
		return new PropertyNames(Map.copyOf(sources));
	}

	/** The property the value of {@code ours} was read from. */
	String name(String ours) {
		Source source = this.sources.get(ours);
		return (source != null) ? source.name() : ours;
	}

	/** What applies once the property behind {@code ours} is removed; {@code otherwise} for our own property. */
	String whenRemoved(String ours, String otherwise) {
		Source source = this.sources.get(ours);
		return (source != null) ? source.whenRemoved() : otherwise;
	}

	private record Source(String name, String whenRemoved) {
	}

}

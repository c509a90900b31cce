package dev.grpckeepalive.benchmarks;

import org.jspecify.annotations.Nullable;

/**
 * What is measured, side by side with the same keepalive settings and the same event-loop
 * configuration ({@link EventLoops}). Two pairs answer what the starter costs: (b) against
 * (a) in standalone mode, (d) against (c) in companion mode; (e) against (b) isolates the
 * frame observer.
 */
public enum Variant {

	/** (a) plain grpc-java: NettyServerBuilder and NettyChannelBuilder, no Spring. */
	PLAIN("a", "plain grpc-java", null),

	/** (b) this starter, with connection tracker and frame observer. */
	STARTER("b", "starter", PLAIN),

	/** (c) Spring Boot 4.1's spring-boot-starter-grpc-server and -client, this starter absent. */
	SPRING_BOOT_GRPC("c", "Spring Boot gRPC", null),

	/** (d) the same as (c) with this starter in companion mode, on server and channel. */
	COMPANION("d", "Spring Boot gRPC + starter", SPRING_BOOT_GRPC),

	/** (e) this starter with grpc.keepalive.frames.enabled=false. */
	STARTER_NO_FRAMES("e", "starter, frames off", PLAIN);

	private final String letter;

	private final String label;

	private final Variant baseline;

	Variant(String letter, String label, @Nullable Variant baseline) {
		this.letter = letter;
		this.label = label;
		this.baseline = (baseline != null) ? baseline : this;
	}

	public String letter() {
		return this.letter;
	}

	public String label() {
		return "(" + this.letter + ") " + this.label;
	}

	/** What this variant's ratios are taken against: (a) for the standalone variants, (c) for companion mode. */
	public Variant baseline() {
		return this.baseline;
	}

	/** The variant named by its letter or its constant's name. */
	static Variant of(String name) {
		for (Variant variant : values()) {
			if (variant.letter.equalsIgnoreCase(name) || variant.name().equalsIgnoreCase(name)) {
				return variant;
			}
		}
		throw new IllegalArgumentException("No variant '" + name + "'; use a to e");
	}

}

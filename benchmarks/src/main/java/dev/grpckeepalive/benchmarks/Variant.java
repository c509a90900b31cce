package dev.grpckeepalive.benchmarks;

/** What is measured, side by side with the same keepalive settings. */
public enum Variant {

	/** (a) plain grpc-java: NettyServerBuilder and NettyChannelBuilder, no Spring. */
	PLAIN("a", "plain grpc-java"),

	/** (b) this starter, with connection tracker and frame observer. */
	STARTER("b", "starter"),

	/** (c) this starter with grpc.keepalive.frames.enabled=false. */
	STARTER_NO_FRAMES("c", "starter, frames off"),

	/** (d) Spring Boot 4.1's spring-boot-starter-grpc-server and -client. */
	SPRING_BOOT_GRPC("d", "Spring Boot gRPC");

	private final String letter;

	private final String label;

	Variant(String letter, String label) {
		this.letter = letter;
		this.label = label;
	}

	public String label() {
		return "(" + this.letter + ") " + this.label;
	}

}

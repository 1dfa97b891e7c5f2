/**
 * `@longshore/secrets`: secret references (`${NAME}`) resolved on the agent from its providers
 * (environment, a mounted directory, AWS Secrets Manager), and the redaction of their values.
 */
export {};

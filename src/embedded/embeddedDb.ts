/** A MongoDB-compatible server started by this process. */
export interface EmbeddedDb {
  readonly engine: 'mongod' | 'ferretdb';
  readonly uri: string;
  readonly port: number;
  stop(): Promise<void>;
}

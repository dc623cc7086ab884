export * from './aug';

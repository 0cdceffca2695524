package adapter

type Capability string

const ORM Capability = "orm"
